// The order book on SQLite: records read back as written, terms that cannot be rewritten, the
// state a matching pass and the chain follower read.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { getAddress } from "viem";
import { DealRecord, toWire } from "@lily/protocol";
import { openDatabase } from "@lily/node-kit";
import { OrderBook, orderBookMigrations, type DealPatch } from "../src/index.ts";
import { tempDir } from "../../../test/support/tempDir.ts";

import { deal, hex, job, jc, offer, rp, sig, wasm } from "./bookRecords.ts";

function bookWithDeal() {
  const path = join(tempDir("lily-book-"), "solver.db");
  const book = new OrderBook(path);
  book.atomically(() => {
    book.addJobOffer(job);
    book.addResourceOffer(offer);
    book.addDeal(deal, 1);
  });
  return { book, path };
}

test("records read back exactly as written, bigints and never-expiring uint64s included", () => {
  const { book } = bookWithDeal();
  assert.deepEqual(book.getJobOffer(job.id), job);
  assert.deepEqual(book.getResourceOffer(offer.id), offer);
  assert.deepEqual(book.getDeal(deal.id), deal);
});

test("a deal read back at every stage of its life is what the wire schema makes of the record written", () => {
  // As the API hands them to the book: addresses checksummed, hashes lowercase (the schema's own normal form).
  const provider = getAddress("0x00000000000000000000000000000000000000a1");
  const jobCreator = getAddress("0x00000000000000000000000000000000000000c1");
  const path = join(tempDir("lily-book-"), "solver.db");
  const book = new OrderBook(path);
  const normal: DealRecord = { ...deal, deal: { ...deal.deal, provider, jobCreator }, group: [provider] };
  book.atomically(() => {
    book.addJobOffer(job);
    book.addResourceOffer(offer);
    book.addDeal(normal, 1);
  });
  const stages: DealPatch[] = [
    { providerSignature: sig },
    { jobCreatorSignature: `0x${"22".repeat(65)}`, status: "signed" },
    {
      status: "opened",
      openTx: hex("0a"),
      progress: {
        progress: { dealId: deal.id, provider, status: "opened", txHash: hex("0a"), at: 2n ** 64n - 1n, error: "" },
        signature: `0x${"33".repeat(65)}`,
      },
    },
    { status: "running", error: 'a note, with "quotes" and ünïcode' },
    { status: "committed", result: { result: { dealId: deal.id, provider, result: wasm, exitCode: 4_294_967_295 }, signature: sig } },
  ];
  let written: DealRecord = normal;
  for (const [i, patch] of stages.entries()) {
    book.updateDeal(deal.id, patch, 10 + i);
    written = { ...written, ...patch, updatedAt: 10 + i };
    const read = book.getDeal(deal.id);
    assert.deepEqual(read, DealRecord.parse(toWire(written)), `stage ${i}`);
    assert.deepEqual(read, written, `stage ${i}`);
  }
  book.close();
});

test("deal terms cannot be rewritten, not even by SQL on the solver's own database", () => {
  const { book, path } = bookWithDeal();
  book.close();
  const db = new DatabaseSync(path);
  for (const column of ["terms", "provider", "job_offer_id", "module", "replica_group"]) {
    assert.throws(() => db.prepare(`UPDATE deals SET ${column} = 'x' WHERE id = ?`).run(deal.id), /deal terms are immutable/, column);
  }
  db.prepare("UPDATE deals SET status = 'signed' WHERE id = ?").run(deal.id);
});

test("a job offer is held by at most one live deal per provider", () => {
  const { book } = bookWithDeal();
  assert.throws(() => book.addDeal({ ...deal, id: hex("04") }, 2), /UNIQUE/);
  const replica = { ...deal, id: hex("05"), deal: { ...deal.deal, provider: "0x00000000000000000000000000000000000000A2" as const } };
  book.addDeal(replica, 2); // another provider: a second replica of the same job offer
  book.updateDeal(deal.id, { status: "rejected" });
  book.addDeal({ ...deal, id: hex("04") }, 2);
});

test("a job offer holds its deals in order, and only one of them reopens it, releasing all", () => {
  const { book } = bookWithDeal();
  const ids = [hex("03"), hex("05"), hex("06")];
  assert.equal(book.setMatching(job.id, { "*": "x" }, ids), true);
  assert.deepEqual(book.getJobOffer(job.id), { ...job, status: "matched", dealIds: ids, rejections: { "*": "x" } });
  assert.equal(book.reopenJobOffer(job.id, hex("07")), false, "not one of its deals");
  assert.equal(book.getJobOffer(job.id)!.status, "matched");
  assert.equal(book.reopenJobOffer(job.id, hex("05")), true);
  assert.deepEqual([book.getJobOffer(job.id)!.status, book.getJobOffer(job.id)!.dealIds], ["open", []]);
  assert.equal(book.reopenJobOffer(job.id, hex("05")), false, "already released");
});

test("a cancelled or abandoned job offer ends once and never comes back", () => {
  const { book } = bookWithDeal();
  book.setMatching(job.id, {}, [deal.id]);
  assert.equal(book.endJobOffer(job.id, "cancelled"), true);
  assert.equal(book.endJobOffer(job.id, "abandoned"), false, "already ended");
  assert.equal(book.reopenJobOffer(job.id, deal.id), false, "an ended job offer is not reopened by its deal ending");
  assert.equal(book.setMatching(job.id, {}, [hex("09")]), false, "nor matched again");
  assert.equal(book.getJobOffer(job.id)!.status, "cancelled");
});

test("a replica keeps its group; what unopened deals hold is summed per party until the chain shows them opened", () => {
  const { book } = bookWithDeal();
  const replica: DealRecord = {
    ...deal,
    id: hex("06"),
    group: [rp, "0x00000000000000000000000000000000000000A2"],
    deal: { ...deal.deal, policy: 2, policyParam: 2n, mediationFee: 2n, collateral: 3n },
  };
  book.atomically(() => book.addDeal({ ...replica, deal: { ...replica.deal, provider: "0x00000000000000000000000000000000000000A2" } }, 2));
  assert.deepEqual(book.getDeal(hex("06"))!.group, replica.group);
  const held = () => book.snapshot(new Map()).held;
  assert.deepEqual(
    held(),
    new Map([
      [rp, 1n],
      [jc, 5n + 5n + 2n],
      ["0x00000000000000000000000000000000000000A2", 3n],
    ]),
  );
  book.setOnChain(deal.id, "opened");
  assert.deepEqual(
    held(),
    new Map([
      [jc, 7n],
      ["0x00000000000000000000000000000000000000A2", 3n],
    ]),
    "opened: the chain locked it, the balance shows it",
  );
});

test("the chain cursor only moves forward, and deals come due by chain time", () => {
  const { book, path } = bookWithDeal();
  assert.equal(book.lastScannedBlock(), undefined);
  book.setScannedBlock(10);
  book.setScannedBlock(7);
  assert.equal(book.lastScannedBlock(), 10);
  assert.deepEqual(book.dealsDueBy(40n), [], "open until its openBy has passed");
  assert.deepEqual(
    book.dealsDueBy(41n).map((d) => d.deal.id),
    [deal.id],
  );
  book.setOnChain(deal.id, "opened");
  assert.deepEqual(book.dealsDueBy(100n), [], "opened: due only after its deadline");
  assert.deepEqual(book.dealsDueBy(101n), [{ deal: book.getDeal(deal.id)!, onChain: "opened" }]);
  book.close();
  assert.equal(new OrderBook(path).lastScannedBlock(), 10, "the cursor survives a restart");
});

test("a book written before replicate keeps its matched job offers' deal as dealIds", () => {
  const path = join(tempDir("lily-book-"), "solver.db");
  const old = openDatabase(path, [orderBookMigrations[0]!]);
  const insert =
    "INSERT INTO job_offers (id, job_creator, expires_at, status, deal_id, offer, signature, rejections, created_at) VALUES (?, ?, 0, ?, ?, ?, ?, '{}', 1)";
  const wire = JSON.stringify(toWire(job.offer));
  old.prepare(insert).run(job.id, jc, "matched", deal.id, wire, sig);
  old.prepare(insert).run(hex("09"), jc, "open", null, wire, sig);
  old.close();

  const book = new OrderBook(path);
  assert.deepEqual(book.getJobOffer(job.id)!.dealIds, [deal.id]);
  assert.deepEqual(book.getJobOffer(hex("09"))!.dealIds, []);
  book.close();
});
