// The running matcher's incremental path (matching.ts with the book's OfferIndex), without a chain:
// the index follows every write of the book (add, replace, deactivate, expire, a rolled-back
// transaction); a pass for a new job offer plans that job alone and reads only the escrow it can
// need; a pass for a new resource offer plans only the waiting jobs it could serve; and on random
// event sequences the scoped passes propose exactly the deals whole passes (the naive plan) do.
// The escrow is a fixed table standing in for the chain reader, which its own tests cover.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Address } from "viem";
import type { JobOfferRecord, ResourceOfferRecord } from "@lily/protocol";
import { createLogger } from "@lily/node-kit";
import { OrderBook } from "../src/orderBook.ts";
import { Matching, type MatchScope } from "../src/matching.ts";
import { Publisher } from "../src/publisher.ts";
import { tempDir } from "../../../test/support/tempDir.ts";
import { addr, config, funded, id, jobRecord, offerRecord, other, wasm } from "./matcherFixtures.ts";

const domain = { chainId: 31337, verifyingContract: addr(0xdea15) };
const logger = createLogger({ module: "solver", level: "error" });

/** A book and its matcher; `fullPassUpTo: 0` makes every pass scoped, however small the book. */
function setup(fullPassUpTo: number, broke: readonly Address[] = []) {
  const book = new OrderBook(join(tempDir("lily-matching-scope-"), "solver.sqlite"));
  const reads: Address[][] = [];
  // By lowercase address: records read back from the book carry checksummed ones.
  const balances = new Map([...funded(broke.map((a) => [a, 0n]))].map(([a, v]) => [a.toLowerCase(), v]));
  // A chain that never moves on: a balance read once stays known (`peek`), as EscrowReader keeps it for a block.
  const seen = new Map<string, bigint>();
  const escrow = {
    read: async (parties: readonly Address[]) => {
      reads.push([...parties]);
      for (const p of parties) seen.set(p.toLowerCase(), balances.get(p.toLowerCase()) ?? 0n);
      return new Map(parties.map((p) => [p, seen.get(p.toLowerCase())!]));
    },
    sync: async () => {},
    peek: (p: Address) => seen.get(p.toLowerCase()),
  };
  const publisher = new Publisher(book, () => {}, logger);
  const matching = new Matching({ book, escrow, publisher, logger, domain, config, fullPassUpTo });
  return { book, matching, reads };
}

const indexed = (book: OrderBook) =>
  book
    .offerIndex()
    .offers()
    .map((o) => o.id)
    .sort();
const activeInSql = (book: OrderBook) =>
  book
    .activeResourceOffers()
    .map((o) => o.id)
    .sort();

test("the book's offer index follows every write: add, replace, deactivate, expire, rollback", () => {
  const { book } = setup(0);
  assert.deepEqual(indexed(book), []);
  book.addResourceOffer(offerRecord(1));
  book.addResourceOffer(offerRecord(2, { modules: [other] }));
  book.addResourceOffer(offerRecord(3, { expiresAt: 1_000n }));
  assert.deepEqual(indexed(book), activeInSql(book));
  assert.equal(book.offerIndex().size, 3);
  // A newer offer of provider 1 for the same module replaces its old one.
  book.addResourceOffer({ ...offerRecord(1, { nonce: 2n, price: 40n }), id: id(0x999) });
  assert.equal(book.offerIndex().has(offerRecord(1).id), false);
  assert.equal(book.offerIndex().has(id(0x999)), true);
  assert.deepEqual(indexed(book), activeInSql(book));
  assert.equal(book.deactivateProvider(addr(2)), 1);
  assert.deepEqual(book.deactivateExpiredResourceOffers(2_000), [offerRecord(3).id]);
  assert.deepEqual(indexed(book), [id(0x999)]);
  assert.deepEqual(indexed(book), activeInSql(book));
  // A transaction that fails leaves neither the database nor the index changed.
  assert.throws(() =>
    book.atomically(() => {
      book.addResourceOffer(offerRecord(4));
      book.deactivateProvider(addr(1));
      throw new Error("boom");
    }),
  );
  assert.deepEqual(indexed(book), [id(0x999)]);
  assert.deepEqual(indexed(book), activeInSql(book));
  // Nor does one that built the index from its own writes.
  const fresh = setup(0).book;
  fresh.addResourceOffer(offerRecord(1));
  assert.throws(() =>
    fresh.atomically(() => {
      fresh.addResourceOffer(offerRecord(2));
      assert.equal(fresh.offerIndex().size, 2);
      fresh.deactivateProvider(addr(1));
      throw new Error("boom");
    }),
  );
  assert.deepEqual(indexed(fresh), [offerRecord(1).id]);
  assert.deepEqual(indexed(fresh), activeInSql(fresh));
  fresh.close();
  book.close();
});

test("a new job offer is planned alone against the index, reading only the escrow it needs", async () => {
  const { book, matching, reads } = setup(0);
  book.addResourceOffer(offerRecord(1, { price: 50n }));
  book.addResourceOffer(offerRecord(2, { price: 30n }));
  book.addResourceOffer(offerRecord(3, { price: 500n })); // above the job's budget
  book.addResourceOffer(offerRecord(4, { modules: [other], price: 1n })); // another module
  book.addResourceOffer(offerRecord(5, { cpu: 1, memoryMb: 256, price: 1n })); // too small
  // An older job that nothing serves stays as it was: a new job's pass does not re-plan it.
  const waiting = jobRecord(1, { module: other, maxPrice: 0n });
  book.addJobOffer({ ...waiting, rejections: { note: "left alone" } });
  const job = jobRecord(2);
  book.addJobOffer(job);
  reads.length = 0;
  await matching.rematch({ jobs: [job.id] });
  const matched = book.getJobOffer(job.id)!;
  assert.equal(matched.status, "matched");
  assert.equal(book.getDeal(matched.dealIds[0]!)!.resourceOfferId, offerRecord(2).id, "the cheapest offer that fits");
  assert.deepEqual(book.getJobOffer(waiting.id)!.rejections, { note: "left alone" });
  // The pair it chose: not provider 1 (dearer, never evaluated), nor any other on the book.
  assert.deepEqual(
    reads
      .flat()
      .map((a) => a.toLowerCase())
      .sort(),
    [job.offer.jobCreator, addr(2)].sort(),
  );
  book.close();
});

test("escrow is read as planning needs it: an unfunded cheapest provider is passed over for the next", async () => {
  const { book, matching, reads } = setup(0, [addr(2), addr(3)]);
  book.addResourceOffer(offerRecord(1, { price: 50n }));
  book.addResourceOffer(offerRecord(2, { price: 30n }));
  book.addResourceOffer(offerRecord(3, { price: 40n }));
  book.addResourceOffer(offerRecord(4, { price: 60n }));
  const job = jobRecord(1);
  book.addJobOffer(job);
  await matching.rematch({ jobs: [job.id] });
  const matched = book.getJobOffer(job.id)!;
  assert.equal(matched.status, "matched");
  assert.equal(book.getDeal(matched.dealIds[0]!)!.resourceOfferId, offerRecord(1).id, "the cheapest funded offer");
  const read = reads.flat().map((a) => a.toLowerCase());
  assert.deepEqual([...new Set(read)].sort(), [job.offer.jobCreator, addr(1), addr(2), addr(3)].sort(), "provider 4 never read");
  // A job nobody funded can serve stays open, its reasons naming the unfunded providers evaluated.
  const poor = jobRecord(2, { maxPrice: 45n });
  book.addJobOffer(poor);
  await matching.rematch({ jobs: [poor.id] });
  const open = book.getJobOffer(poor.id)!;
  assert.equal(open.status, "open");
  assert.deepEqual(
    Object.keys(open.rejections)
      .map((a) => a.toLowerCase())
      .sort(),
    [addr(2), addr(3)].sort(),
  );
  assert.ok(Object.values(open.rejections).every((r) => r.startsWith("escrow: ")));
  book.close();
});

test("a new resource offer is matched only against the waiting jobs it could serve", async () => {
  const { book, matching } = setup(0);
  const wants = jobRecord(1, { maxPrice: 60n });
  const otherModule = jobRecord(2, { module: other });
  book.addResourceOffer(offerRecord(2, { price: 90n })); // above its budget
  book.addJobOffer(wants);
  await matching.rematch({ jobs: [wants.id] });
  assert.equal(book.getJobOffer(wants.id)!.status, "open", "nothing it can afford yet");
  book.addJobOffer({ ...otherModule, rejections: { note: "left alone" } });
  const rec = offerRecord(1, { price: 55n });
  book.addResourceOffer(rec);
  await matching.rematch({ offers: [rec] });
  assert.equal(book.getJobOffer(wants.id)!.status, "matched");
  assert.deepEqual(book.getJobOffer(otherModule.id)!.rejections, { note: "left alone" });
  // A whole pass (the sweep) does re-plan it: with every offer's reason past the threshold, or the index's.
  await matching.rematch("all");
  assert.equal(book.getJobOffer(otherModule.id)!.status, "open");
  assert.notDeepEqual(book.getJobOffer(otherModule.id)!.rejections, { note: "left alone" });
  book.close();
});

test("the reasons of a job that matched nothing are computed on demand by the dry run", async () => {
  const { book, matching } = setup(0);
  book.addResourceOffer(offerRecord(1, { price: 500n }));
  book.addResourceOffer(offerRecord(2, { modules: [other] }));
  const explained = await matching.explain(jobRecord(1).offer);
  const reasons = Object.fromEntries(Object.entries(explained.rejections).map(([a, r]) => [a.toLowerCase(), r]));
  assert.deepEqual(Object.keys(reasons).sort(), [addr(1), addr(2)].sort());
  assert.match(reasons[addr(1)]!, /^price: /);
  assert.match(reasons[addr(2)]!, /^module: /);
  assert.equal(explained.clearingPrice, 500n);
  book.close();
});

/** A small deterministic PRNG, so a failure names the seed that shows it. */
function prng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

test("on random event sequences, scoped passes propose exactly the deals whole passes do", async () => {
  let total = 0;
  for (let seed = 1; seed <= 25; seed++) {
    const rand = prng(seed);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
    const events: ({ job: JobOfferRecord } | { offer: ResourceOfferRecord } | { deactivate: Address } | { decline: true })[] = [];
    for (let i = 1; i <= 30; i++) {
      const r = rand();
      if (r < 0.5) {
        events.push({
          job: jobRecord(i, {
            module: pick([wasm, wasm, other]),
            cpu: pick([1, 2, 3]),
            maxPrice: pick([20n, 50n, 80n]),
            ...(rand() < 0.2 ? { policy: 2, policyParam: 2n } : {}),
          }),
        });
      } else if (r < 0.9) {
        const provider = 1 + Math.floor(rand() * 8);
        events.push({
          offer: {
            ...offerRecord(provider, { modules: pick([[wasm], [other], [wasm, other]]), cpu: pick([2, 4]), price: pick([10n, 30n, 60n]), nonce: BigInt(i) }),
            id: id(0x10000 + i),
            createdAt: i,
          },
        });
      } else if (r < 0.95) events.push({ deactivate: addr(1 + Math.floor(rand() * 8)) });
      else events.push({ decline: true });
    }
    const deals: string[][] = [];
    for (const fullPassUpTo of [0, Number.MAX_SAFE_INTEGER]) {
      const { book, matching } = setup(fullPassUpTo);
      for (const e of events) {
        let scope: MatchScope;
        if ("job" in e) {
          book.addJobOffer(e.job);
          scope = { jobs: [e.job.id] };
        } else if ("offer" in e) {
          book.addResourceOffer(e.offer);
          scope = { offers: [e.offer] };
        } else if ("deactivate" in e) {
          book.deactivateProvider(e.deactivate);
          scope = { jobs: [] };
        } else {
          // The provider of the first live single deal (by job offer) declines it: the job goes back on the book without it.
          const deal = book
            .listDeals({ status: "proposed" })
            .filter((d) => !d.group)
            .sort((a, b) => (a.jobOfferId < b.jobOfferId ? -1 : 1))[0];
          if (!deal) continue;
          book.atomically(() => {
            book.updateDeal(deal.id, { status: "rejected" });
            book.exclude(deal.jobOfferId, deal.deal.provider, "declined");
            book.reopenJobOffer(deal.jobOfferId, deal.id);
          });
          scope = "all"; // capacity freed: every waiting job may take it (the solver's rematch after a report)
        }
        await matching.rematch(scope);
        // What the book keeps of the deals' holdings is what SQL sums.
        const kept = book.usage();
        const summed = book.snapshot(new Map());
        assert.deepEqual([kept.used, kept.held], [summed.used, summed.held], `seed ${seed}: holdings`);
      }
      deals.push(
        book
          .listDeals({})
          .map((d) => `${d.jobOfferId}>${d.resourceOfferId} ${d.status}`)
          .sort(),
      );
      book.close();
    }
    assert.deepEqual(deals[0], deals[1], `seed ${seed}`);
    total += deals[0]!.length;
  }
  assert.ok(total > 50, `the sequences make deals (${total})`);
});
