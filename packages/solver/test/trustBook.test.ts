// The order book on a network that routes trust deals to LilyTrustDeals: what unopened deals
// hold is kept per escrow (a trust deal's under its parties' trust keys), and each routed deal is
// indexed by how the contract's batch events name it (leaf; provider and nonce), across a restart.
// And how a scan's events become sightings of the deals the book follows, in the chain's order.
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
  assert.deepEqual(plain.trustDealsByLeaf(trustLeaf(rp, trustTermsOf(trustDealOf(deal.id, deal.deal))).toLowerCase() as Hex), [], "not routed: not indexed");
  routed.close();
  plain.close();
});

test("a routed deal is found by its leaf and by its provider and nonce, after a restart too; other deals are not", () => {
  const path = join(tempDir("lily-trust-book-"), "solver.db");
  book(path, true).close();
  const reopened = new OrderBook(path, { trustDeals: true });
  const trustDeal = trustDealOf(deal.id, deal.deal);
  const leaf = trustLeaf(rp, trustTermsOf(trustDeal)).toLowerCase() as Hex;
  assert.deepEqual(reopened.trustDealsByLeaf(leaf), [deal.id]);
  assert.deepEqual(reopened.trustDealsByNonce(rp, trustDeal.nonce), [deal.id]);
  assert.deepEqual(reopened.trustDealsByNonce(rp.toLowerCase() as Hex, trustDeal.nonce), [deal.id], "the event's address casing does not matter");
  assert.deepEqual(reopened.trustDealsByNonce(a2, trustDeal.nonce), [], "another provider's nonce is another deal");
  assert.deepEqual(reopened.trustDealsByNonce(a2, trustDealOf(replica.id, replica.deal).nonce), [], "a replica is not routed");

  const at = { txHash: hex("aa"), blockNumber: 7 };
  const events: ScannedEvent[] = [
    { dealId: replica.id, fact: "opened", event: "DealOpened", ...at },
    { trust: { leaves: [hex("00"), leaf, hex("ee")] }, fact: "opened", event: "DealsOpened", ...at },
    { trust: { provider: rp, nonces: [5n, trustDeal.nonce] }, fact: "committed", event: "DealsSettled", ...at },
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
