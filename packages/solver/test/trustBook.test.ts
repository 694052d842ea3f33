// The order book on a network that routes trust deals to LilyTrustDeals: what unopened deals
// hold is kept per escrow (a trust deal's under its parties' trust keys), and each routed deal is
// indexed by how the contract's batch events name it (leaf; provider and nonce) once its provider
// signed under a nonce, across a restart. And how a scan's events become sightings of the deals the
// book follows, in the chain's order, never of an unopened deal under a nonce another deal took.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Hex } from "viem";
import { trustDealOf, type DealRecord } from "@lily/protocol";
import { trustLeaf, trustTermsOf } from "@lily/chain";
import { OrderBook, sightingsOf, type ScannedEvent } from "../src/index.ts";
import { backingKey } from "../src/matcher/backing.ts";
import { tempDir } from "../../../test/support/tempDir.ts";

import { deal, hex, job, jc, offer, rp } from "./bookRecords.ts";

const replica: DealRecord = {
  ...deal,
  id: hex("06"),
  group: [rp, "0x00000000000000000000000000000000000000A2"],
  deal: { ...deal.deal, provider: "0x00000000000000000000000000000000000000A2", policy: 2, policyParam: 2n, mediationFee: 2n, collateral: 3n },
};
const a2 = "0x00000000000000000000000000000000000000A2" as const;
/** The nonce the routed deal's provider signed it under. */
const NONCE = 77n;
/** Another routed deal of the same provider that its provider (wrongly) signed under the same nonce. */
const twinJob = { ...job, id: hex("08"), offer: { ...job.offer, nonce: 2n } };
const twin: DealRecord = { ...deal, id: hex("07"), jobOfferId: twinJob.id, deal: { ...deal.deal, jobOffer: twinJob.id, price: 4n } };

function book(path: string, trustDeals: boolean) {
  const b = new OrderBook(path, { trustDeals });
  b.atomically(() => {
    b.addJobOffer(job);
    b.addResourceOffer(offer);
  });
  b.usage(1); // summed now: the deals below are added to the sums in memory
  b.atomically(() => {
    b.addDeal(deal, 1);
    b.addDeal(replica, 2);
  });
  if (trustDeals) b.atomically(() => b.setTrustNonce(deal, NONCE));
  return b;
}

test("on a trust network a trust deal holds its parties' LilyTrustDeals escrow, every other deal their LilyDeals escrow; elsewhere all of it is LilyDeals'", () => {
  const routed = book(join(tempDir("lily-trust-book-"), "solver.db"), true);
  const perEscrow = new Map<string, bigint>([
    [backingKey(rp, true), 1n],
    [backingKey(jc, true), 5n],
    [jc, 5n + 2n],
    [a2, 3n],
  ]);
  assert.deepEqual(routed.usage(1).held, perEscrow, "kept in memory as each deal was added");
  assert.deepEqual(routed.snapshot(new Map(), 1).held, perEscrow, "summed in SQL: the same");
  assert.equal(routed.usage(1).trustEscrow, true);

  const plain = book(join(tempDir("lily-trust-book-"), "solver.db"), false);
  const asBefore = new Map<string, bigint>([
    [rp, 1n],
    [jc, 5n + 5n + 2n],
    [a2, 3n],
  ]);
  assert.deepEqual(plain.usage(1).held, asBefore);
  assert.deepEqual(plain.snapshot(new Map(), 1).held, asBefore);
  assert.equal(plain.usage(1).trustEscrow, undefined);
  assert.deepEqual(plain.trustDealsByLeaf(trustLeaf(rp, trustTermsOf(trustDealOf(deal.deal, NONCE))).toLowerCase() as Hex), [], "not routed: not indexed");
  routed.close();
  plain.close();
});

test("a routed deal is found (and listed) by its leaf and by its provider and nonce once signed, after a restart too; other deals are not", () => {
  const path = join(tempDir("lily-trust-book-"), "solver.db");
  const first = book(path, true);
  first.atomically(() => {
    first.addJobOffer(twinJob);
    first.addDeal(twin, 3);
  });
  const unsignedLeaf = trustLeaf(rp, trustTermsOf(trustDealOf(twin.deal, NONCE))).toLowerCase() as Hex;
  assert.deepEqual(first.trustDealsByLeaf(unsignedLeaf), [], "no nonce yet (its provider has not signed): not indexed");
  assert.equal(first.getDeal(twin.id)!.trustNonce, undefined);
  first.close();

  const reopened = new OrderBook(path, { trustDeals: true });
  assert.equal(reopened.getDeal(deal.id)!.trustNonce, NONCE, "the record carries the nonce");
  const leaf = trustLeaf(rp, trustTermsOf(trustDealOf(deal.deal, NONCE))).toLowerCase() as Hex;
  assert.deepEqual(reopened.trustDealsByLeaf(leaf), [deal.id]);
  assert.deepEqual(
    reopened.listDeals({ trustLeaf: leaf.toUpperCase().replace("0X", "0x") as Hex }).map((d) => d.id),
    [deal.id],
    "listed by its leaf (GET /v1/deals?trustLeaf=), whatever the leaf's casing",
  );
  assert.deepEqual(reopened.listDeals({ trustLeaf: unsignedLeaf }), [], "an unsigned deal's would-be leaf lists nothing");
  assert.deepEqual(reopened.trustDealsByNonce(rp, NONCE), [{ id: deal.id, seenOpened: false }]);
  assert.deepEqual(
    reopened.trustDealsByNonce(rp.toLowerCase() as Hex, NONCE),
    [{ id: deal.id, seenOpened: false }],
    "the event's address casing does not matter",
  );
  assert.deepEqual(reopened.trustDealsByNonce(a2, NONCE), [], "another provider's nonce is another deal");
  // REJECT: a nonce is set once (both signatures are over it)
  assert.throws(() => reopened.atomically(() => reopened.setTrustNonce(reopened.getDeal(deal.id)!, NONCE + 1n)), /keeps the nonce/);
  assert.equal(reopened.getDeal(deal.id)!.trustNonce, NONCE);

  const at = { txHash: hex("aa"), blockNumber: 7 };
  const events: ScannedEvent[] = [
    { dealId: replica.id, fact: "opened", event: "DealOpened", ...at },
    { trust: { leaves: [hex("00"), leaf, hex("ee")] }, fact: "opened", event: "DealsOpened", ...at },
    { trust: { provider: rp, nonces: [5n, NONCE] }, fact: "committed", event: "DealsSettled", ...at },
  ];
  assert.deepEqual(
    sightingsOf(events, reopened).map((s) => [s.dealId, s.fact]),
    [
      [replica.id, "opened"],
      [deal.id, "opened"],
      [deal.id, "committed"],
    ],
    "in the scan's order; leaves and nonces of deals not followed are left out",
  );
  reopened.close();
});

test("a settlement under a nonce names only the deal that opened under it, never a twin its provider signed under the same nonce", () => {
  const b = book(join(tempDir("lily-trust-book-"), "solver.db"), true);
  b.atomically(() => {
    b.addJobOffer(twinJob);
    b.addDeal(twin, 3);
    b.setTrustNonce(twin, NONCE);
  });
  const leaf = trustLeaf(rp, trustTermsOf(trustDealOf(deal.deal, NONCE))).toLowerCase() as Hex;
  const at = { txHash: hex("aa"), blockNumber: 7 };
  const settled: ScannedEvent = { trust: { provider: rp, nonces: [NONCE] }, fact: "committed", event: "DealsSettled", ...at };
  // Opened and settled in one scan: the opening names the deal by its leaf, so the settlement is its alone.
  assert.deepEqual(
    sightingsOf([{ trust: { leaves: [leaf] }, fact: "opened", event: "DealsOpened", ...at }, settled], b).map((s) => [s.dealId, s.fact]),
    [
      [deal.id, "opened"],
      [deal.id, "committed"],
    ],
  );
  // Settled in a later scan: the book saw the deal open, and never the twin.
  b.setOnChain(deal.id, "opened");
  assert.deepEqual(
    sightingsOf([settled], b).map((s) => [s.dealId, s.fact]),
    [[deal.id, "committed"]],
  );
  b.close();
});
