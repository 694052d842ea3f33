// The order book on a network that routes trust deals to LilyTrustDeals: what unopened deals
// hold is kept per escrow (a trust deal's under its parties' trust keys), and each routed deal is
// indexed by how the contract's batch events name it (leaf; provider and nonce), across a restart.
// And how a scan's events become sightings of the deals the book follows, in the chain's order.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Hex } from "viem";
import { cidForBytes, trustDealOf, type DealRecord, type JobOfferRecord, type ResourceOfferRecord } from "@lily/protocol";
import { trustLeaf, trustTermsOf } from "@lily/chain";
import { OrderBook, sightingsOf, type ScannedEvent } from "../src/index.ts";
import { backingKey } from "../src/matcher/backing.ts";
import { tempDir } from "../../../test/support/tempDir.ts";

const hex = (b: string) => `0x${b.repeat(32)}` as Hex;
const jc = "0x00000000000000000000000000000000000000C1" as const;
const rp = "0x00000000000000000000000000000000000000A1" as const;
const wasm = cidForBytes(new TextEncoder().encode("primes.wasm"));
const sig = `0x${"11".repeat(65)}` as Hex;

const job: JobOfferRecord = {
  id: hex("01"),
  signature: sig,
  status: "open",
  dealIds: [],
  rejections: {},
  createdAt: 1,
  offer: {
    jobCreator: jc,
    module: wasm,
    inputs: wasm,
    cpu: 1,
    memoryMb: 1,
    gpu: 0,
    vramMb: 0,
    maxPrice: 5n,
    policy: 0,
    policyParam: 0n,
    mediationFee: 0n,
    mediators: [],
    moduleCreator: "0x0000000000000000000000000000000000000000",
    royaltyBps: 0,
    timeoutSeconds: 60n,
    expiresAt: 2n ** 64n - 1n,
    nonce: 1n,
  },
};
const offer: ResourceOfferRecord = {
  id: hex("02"),
  signature: sig,
  active: true,
  createdAt: 1,
  offer: {
    provider: rp,
    cpu: 1,
    memoryMb: 1,
    gpu: 0,
    vramMb: 0,
    price: 5n,
    collateral: 1n,
    modules: [wasm],
    mediators: [],
    expiresAt: 2n ** 64n - 1n,
    nonce: 1n,
  },
};
const deal: DealRecord = {
  id: hex("03"),
  jobOfferId: job.id,
  resourceOfferId: offer.id,
  module: wasm,
  inputs: wasm,
  status: "proposed",
  updatedAt: 1,
  deal: {
    jobCreator: jc,
    provider: rp,
    jobOffer: job.id,
    resourceOffer: offer.id,
    price: 5n,
    collateral: 1n,
    openBy: 40n,
    deadline: 100n,
    policy: 0,
    policyParam: 0n,
    mediationFee: 0n,
    mediators: `0x${"00".repeat(32)}`,
    replicas: `0x${"00".repeat(32)}`,
    moduleCreator: "0x0000000000000000000000000000000000000000",
    royaltyBps: 0,
  },
};

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
