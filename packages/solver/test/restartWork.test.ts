// What a restarted solver's first pass costs when the book is large: work that grows with the jobs
// and the parties planning needs, not with every offer on the book. A job whose creator's escrow
// cannot back it is refused as a whole, before any offer is evaluated: no provider's balance is
// read for it and it keeps one reason, not one per provider (a real solver restarted on 100k
// offers and 12k such jobs ran for minutes and grew past 2.5 GB). Escrow is still the last word:
// an offer whose provider cannot cover its collateral is never matched. The escrow is a table
// standing in for the chain reader, counting what is read.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Address } from "viem";
import { createLogger } from "@lily/node-kit";
import { OrderBook } from "../src/orderBook.ts";
import { Matching } from "../src/matching.ts";
import { Publisher } from "../src/publisher.ts";
import { JOB_REJECTION } from "../src/matcher/match.ts";
import { tempDir } from "../../../test/support/tempDir.ts";
import { RICH, addr, config, jobRecord, offerRecord } from "./matcherFixtures.ts";

const domain = { chainId: 31337, verifyingContract: addr(0xdea15) };
const logger = createLogger({ module: "solver", level: "error" });
const OFFERS = 300;
const JOBS = 60;
const creator = (n: number) => addr(0xc00000 + n);
const provider = (n: number) => addr(n);

/** A book of OFFERS offers (one provider each) and JOBS open job offers from 3 creators, written by one solver and opened by the next. */
function restartedBook(): string {
  const path = join(tempDir("lily-restart-work-"), "solver.sqlite");
  const book = new OrderBook(path);
  book.atomically(() => {
    for (let n = 1; n <= OFFERS; n++) book.addResourceOffer(offerRecord(n, { price: BigInt(10 + (n % 40)) }));
    for (let j = 1; j <= JOBS; j++) book.addJobOffer(jobRecord(j, { jobCreator: creator(j % 3), nonce: BigInt(j) }));
  });
  book.close();
  return path;
}

/** A solver restarted on `path`, with these balances on chain (any other party: none). */
function restart(path: string, balances: ReadonlyMap<Address, bigint>) {
  const book = new OrderBook(path);
  const onChain = new Map([...balances].map(([a, v]) => [a.toLowerCase(), v]));
  const read = new Set<string>();
  const seen = new Map<string, bigint>();
  const escrow = {
    read: async (parties: readonly Address[]) => {
      for (const p of parties) {
        read.add(p.toLowerCase());
        seen.set(p.toLowerCase(), onChain.get(p.toLowerCase()) ?? 0n);
      }
      return new Map(parties.map((p) => [p, seen.get(p.toLowerCase())!]));
    },
    sync: async () => {},
    peek: (p: Address) => seen.get(p.toLowerCase()),
  };
  const matching = new Matching({ book, escrow, publisher: new Publisher(book, () => {}, logger), logger, domain, config, fullPassUpTo: 10 });
  return { book, matching, read };
}

test("a restarted solver refuses jobs nobody backs without reading or listing every provider", async () => {
  const { book, matching, read } = restart(restartedBook(), new Map());
  await matching.rematch();
  // Only the job creators were read: their jobs were refused before any offer was evaluated.
  assert.deepEqual([...read].sort(), [0, 1, 2].map((n) => creator(n).toLowerCase()).sort());
  const jobs = Array.from({ length: JOBS }, (_, i) => book.getJobOffer(jobRecord(i + 1).id)!);
  for (const j of jobs) {
    assert.equal(j.status, "open");
    // One reason for the job as a whole, not one per provider it could have used.
    assert.deepEqual(Object.keys(j.rejections), [JOB_REJECTION]);
    assert.match(j.rejections[JOB_REJECTION]!, /^escrow: job creator: escrow 0 LILY free/);
  }
  assert.equal(book.countDeals(), 0);
  book.close();
});

test("after a restart, escrow still decides: backed jobs match only providers who can cover their collateral", async () => {
  // Creator 0 deposited, creators 1 and 2 did not; only the even providers did.
  const balances = new Map<Address, bigint>([[creator(0), RICH]]);
  for (let n = 2; n <= OFFERS; n += 2) balances.set(provider(n), RICH);
  const { book, matching, read } = restart(restartedBook(), balances);
  await matching.rematch();
  const deals = book.listDeals({});
  const backed = Array.from({ length: JOBS }, (_, i) => i + 1).filter((j) => j % 3 === 0);
  assert.equal(deals.length, backed.length);
  for (const d of deals) {
    assert.equal(d.deal.jobCreator.toLowerCase(), creator(0).toLowerCase());
    assert.ok(balances.has(d.deal.provider), `${d.deal.provider} has no escrow and must not be matched`);
  }
  for (let j = 1; j <= JOBS; j++) assert.equal(book.getJobOffer(jobRecord(j).id)!.status, j % 3 === 0 ? "matched" : "open");
  // The providers read are those planning met for the backed jobs, not the whole book.
  assert.ok(read.size < OFFERS / 2, `read ${read.size} balances for ${backed.length} backed jobs`);
  book.close();
});
