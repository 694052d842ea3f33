// The sweep's whole pass runs only when something could change a waiting job's outcome since the
// last whole pass (issue 10): a new block (escrow), a write that frees capacity or changes the
// offers, chain-free time passing a hold's end, or a pass that left work behind. Nothing changed:
// the sweep plans nothing, yet still expires the job offers past their expiry. Without a chain:
// the escrow is a table and the block a number the test moves.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Address } from "viem";
import { createLogger } from "@lily/node-kit";
import { OrderBook } from "../src/orderBook.ts";
import { Matching } from "../src/matching.ts";
import { Publisher } from "../src/publisher.ts";
import { tempDir } from "../../../test/support/tempDir.ts";
import { addr, config, funded, jobRecord, offerRecord, other } from "./matcherFixtures.ts";

const domain = { chainId: 31337, verifyingContract: addr(0xdea15) };
const logger = createLogger({ module: "solver", level: "error" });
const poor = addr(0x9001);

/** A book and its matcher over a chain at `chain.block`, whose balances the test may change (seen at the next block). */
function setup(signWindowSeconds = config.signWindowSeconds) {
  const book = new OrderBook(join(tempDir("lily-sweep-skip-"), "solver.sqlite"));
  const chain = { block: 1n, balances: new Map([...funded([[poor, 0n]])].map(([a, v]) => [a.toLowerCase(), v])) };
  let at = -1n;
  const seen = new Map<string, bigint>();
  const escrow = {
    sync: async () => {
      if (chain.block !== at) seen.clear();
      at = chain.block;
      return at;
    },
    read: async (parties: readonly Address[]) => {
      await escrow.sync();
      for (const p of parties) seen.set(p.toLowerCase(), chain.balances.get(p.toLowerCase()) ?? 0n);
      return new Map(parties.map((p) => [p, seen.get(p.toLowerCase())!]));
    },
    peek: (p: Address) => seen.get(p.toLowerCase()),
  };
  const matching = new Matching({
    book,
    escrow,
    publisher: new Publisher(book, () => {}, logger),
    logger,
    domain,
    config: { ...config, signWindowSeconds },
    fullPassUpTo: 0,
  });
  // A whole pass reads every open job offer from the book; a skipped sweep reads none.
  const plans = { count: 0 };
  const openJobOffers = book.openJobOffers.bind(book);
  book.openJobOffers = () => {
    plans.count++;
    return openJobOffers();
  };
  /** Whether this sweep planned every open job. */
  const sweep = async () => {
    const before = plans.count;
    await matching.rematch("sweep");
    return plans.count > before;
  };
  return { book, matching, chain, sweep };
}

test("an idle sweep plans nothing; a new block, freed capacity or a new offer brings the whole pass back", async () => {
  const { book, chain, sweep } = setup();
  // Provider 1 has 3 cpu: the first job takes 2, the next one waits for them, the unfunded one
  // would fit in the third; nobody serves `other`.
  book.addResourceOffer(offerRecord(1, { cpu: 3 }));
  const first = jobRecord(1, { cpu: 2 });
  const waitsForCapacity = jobRecord(2, { cpu: 2 });
  const unfunded = jobRecord(3, { jobCreator: poor });
  const noProvider = jobRecord(4, { module: other });
  const tooCheap = jobRecord(5, { maxPrice: 0n }); // waits throughout (a book with no open job plans for free)
  for (const j of [first, waitsForCapacity, unfunded, noProvider, tooCheap]) book.addJobOffer(j);

  assert.equal(await sweep(), true, "the first sweep plans every job");
  assert.equal(book.getJobOffer(first.id)!.status, "matched");
  for (const j of [waitsForCapacity, unfunded, noProvider, tooCheap]) assert.equal(book.getJobOffer(j.id)!.status, "open");
  for (let i = 0; i < 3; i++) assert.equal(await sweep(), false, "nothing changed: no plan");

  // A new block: the poor creator's deposit is seen.
  chain.balances.set(poor.toLowerCase(), 10n ** 24n);
  chain.block++;
  assert.equal(await sweep(), true, "a new block plans again");
  assert.equal(book.getJobOffer(unfunded.id)!.status, "matched", "the creator's deposit is used");
  assert.equal(await sweep(), false);

  // The first job's deal ends (declined): its capacity is free for the job waiting for it.
  const deal = book.getJobOffer(first.id)!.dealIds[0]!;
  book.atomically(() => book.updateDeal(deal, { status: "rejected" }));
  assert.equal(await sweep(), true, "a deal that ended plans again");
  assert.equal(book.getJobOffer(waitsForCapacity.id)!.status, "matched");
  assert.equal(await sweep(), false);

  // A provider of the missing module arrives (a write the targeted pass would cover, counted anyway).
  book.atomically(() => book.addResourceOffer(offerRecord(2, { modules: [other] })));
  assert.equal(await sweep(), true, "a new offer plans again");
  assert.equal(book.getJobOffer(noProvider.id)!.status, "matched");
  assert.equal(await sweep(), false);
  assert.equal(book.getJobOffer(tooCheap.id)!.status, "open");
  book.close();
});

test("a skipped sweep still expires the job offers past their expiry", async () => {
  const { book, sweep } = setup();
  const soon = BigInt(Math.floor(Date.now() / 1000) + 1);
  const job = jobRecord(1, { module: other, expiresAt: soon });
  book.addJobOffer(job);
  assert.equal(await sweep(), true);
  assert.equal(book.getJobOffer(job.id)!.status, "open");
  while (BigInt(Math.floor(Date.now() / 1000)) < soon) await new Promise((r) => setTimeout(r, 100));
  assert.equal(await sweep(), false);
  assert.equal(book.getJobOffer(job.id)!.status, "expired");
  book.close();
});

test("a pass that failed leaves the next sweep a whole one", async () => {
  const { book, matching, sweep } = setup();
  book.addResourceOffer(offerRecord(1));
  book.addJobOffer(jobRecord(1, { module: other }));
  assert.equal(await sweep(), true);
  assert.equal(await sweep(), false);
  // A job's own pass fails (the chain away): the sweep is what matches it.
  const job = jobRecord(2);
  const escrow = (matching as unknown as { deps: { escrow: { sync: () => Promise<unknown> } } }).deps.escrow;
  const sync = escrow.sync;
  escrow.sync = async () => {
    escrow.sync = sync;
    throw new Error("chain away");
  };
  book.addJobOffer(job);
  await assert.rejects(matching.rematch({ jobs: [job.id] }));
  assert.equal(book.getJobOffer(job.id)!.status, "open");
  assert.equal(await sweep(), true, "the failed pass's work is the sweep's");
  assert.equal(book.getJobOffer(job.id)!.status, "matched");
  book.close();
});

test("a dropped deal its provider signed holds capacity until its openBy: the sweep after that plans again", async () => {
  const { book, sweep } = setup(1);
  book.addResourceOffer(offerRecord(1, { cpu: 2 }));
  const first = jobRecord(1, { cpu: 2 });
  const next = jobRecord(2, { cpu: 2 });
  book.addJobOffer(first);
  book.addJobOffer(next);
  assert.equal(await sweep(), true);
  const deal = book.getDeal(book.getJobOffer(first.id)!.dealIds[0]!)!;
  // Signed by its provider, then dropped: whoever holds the signature could open it until its openBy.
  book.atomically(() => book.updateDeal(deal.id, { providerSignature: `0x${"11".repeat(65)}`, status: "rejected" }));
  assert.equal(await sweep(), true);
  assert.equal(book.getJobOffer(next.id)!.status, "open", "the signed deal still holds the provider");
  assert.equal(await sweep(), false);
  // No write frees it: only time, past its openBy and the margin for the parties' clocks.
  while (await sweepIdleUntil(deal.deal.openBy)) await new Promise((r) => setTimeout(r, 250));
  assert.equal(book.getJobOffer(next.id)!.status, "matched");
  book.close();

  /** Sweep until one plans; every sweep before the hold ends must plan nothing. Whether to sweep again. */
  async function sweepIdleUntil(openBy: bigint): Promise<boolean> {
    const planned = await sweep();
    const margin = 5n; // OPEN_BY_MARGIN_SECONDS
    if (!planned) assert.ok(BigInt(Math.floor(Date.now() / 1000)) <= openBy + margin + 1n, "the hold ended and the sweep did not plan");
    else assert.ok(BigInt(Math.floor(Date.now() / 1000)) > openBy + margin, "planned before the hold ended");
    return !planned;
  }
});
