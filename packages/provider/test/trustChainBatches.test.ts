// The provider's routed trust deals against a real chain (anvil with LilyTrustDeals): deals ready
// together open in one LilyTrustDeals batch, each told its batch, leaves and place; they settle in
// one call per batch; skip reasons read as the LilyDeals refusals the provider's steps expect (a
// used nonce: "look at the chain"; a forged signature: a refusal); and the batch of a deal is found
// again from the chain after a restart, or when the number kept names another batch.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { keccak256, parseEther, toHex, type Hex } from "viem";
import { Policy, type DealMessage } from "@lily/protocol";
import {
  createLilyClient,
  dealId,
  dealState,
  deposit,
  fundAccount,
  escrowBalance,
  openTrustDeals,
  routedTrustDeal,
  signDealFor,
  trustDealState,
  trustLeaf,
  trustTermsOf,
  type Anvil,
  type LilyAddresses,
  type LilyClient,
} from "@lily/chain";
import { startTrustChain } from "../../chain/test/trustChain.ts";
import { createChainBatches, type ChainBatches } from "../src/batch/chainBatches.ts";
import { refusal } from "../src/refusal.ts";
import { keepTrustBatch, trustBatchOf } from "../src/batch/trustBatchOf.ts";
import { routedOf, type LocalDeal } from "../src/db.ts";
import { NO_RESOURCES } from "../src/resources.ts";

const PRICE = parseEther("1");
const COLLATERAL = parseEther("2");

let anvil: Anvil;
let addresses: LilyAddresses;
let jobCreator: LilyClient;
let provider: LilyClient;
let stranger: LilyClient;
let batches: ChainBatches;
let serial = 0;
/** The provider's nonces, in sequence as it takes them (ProviderDb.withNextTrustNonce). */
let nextNonce = 1_000n;

before(async () => {
  const chain = await startTrustChain();
  ({ anvil, addresses } = chain);
  [jobCreator, provider, stranger] = chain.accounts;
  for (const party of [jobCreator, provider]) {
    await chain.fundTrustEscrow(party, parseEther("100"));
    await fundAccount(chain.deployer, { to: party.account!.address, tokens: parseEther("100") });
    await deposit(party, { amount: parseEther("100") });
  }
  batches = createChainBatches(provider);
});
after(() => anvil?.stop());

/**
 * A negotiated deal between the two parties, given the provider's next nonce and signed by both in
 * its routed form (a deal signed as a Deal leaves the nonce out; it is kept to show nothing opened under it).
 */
async function signedDeal(
  policy: number = Policy.trust,
  route: Omit<LilyAddresses, "trustDeals"> = addresses,
): Promise<{ id: Hex; deal: DealMessage; trustNonce: bigint; jobCreatorSig: Hex; providerSig: Hex }> {
  const now = (await provider.publicClient.getBlock()).timestamp;
  const zero = `0x${"0".repeat(64)}` as Hex;
  const deal: DealMessage = {
    jobCreator: jobCreator.account!.address,
    provider: provider.account!.address,
    jobOffer: keccak256(toHex(`provider trust job ${serial++}`)),
    resourceOffer: keccak256(toHex("provider trust resource")),
    price: PRICE,
    collateral: COLLATERAL,
    openBy: now + 600n,
    deadline: now + 900n,
    policy,
    policyParam: 0n,
    mediationFee: 0n,
    mediators: zero,
    replicas: zero,
    moduleCreator: stranger.account!.address,
    royaltyBps: 0,
  };
  const routed = { dealId: dealId(route, deal), deal, trustNonce: nextNonce++ };
  const jobCreatorSig = await signDealFor(jobCreator.account!, route, routed);
  const providerSig = await signDealFor(provider.account!, route, routed);
  return { id: routed.dealId, deal, trustNonce: routed.trustNonce, jobCreatorSig, providerSig };
}

type Numbered = { id: Hex; deal: DealMessage; trustNonce: bigint };
const stateOf = (d: Numbered) => trustDealState(provider, { provider: d.deal.provider, nonce: d.trustNonce });
const trustEscrow = (c: LilyClient) => escrowBalance(provider, { account: c.account!.address, escrow: addresses.trustDeals! });
const local = (d: Numbered, trustBatchNo?: bigint): LocalDeal => ({
  id: d.id,
  deal: d.deal,
  trustNonce: d.trustNonce,
  module: "m",
  inputs: "i",
  needs: NO_RESOURCES,
  status: "ran",
  ...(trustBatchNo !== undefined && { trustBatchNo }),
});

describe("the provider's routed trust deals", () => {
  test("deals ready together open in one LilyTrustDeals batch; each is told the batch, its leaves and its place", async () => {
    const deals = await Promise.all([1, 2, 3].map(() => signedDeal()));
    const callsBefore = batches.calls.trustOpen.length;
    const before = await trustEscrow(jobCreator);
    const sent = await Promise.all(deals.map((d) => batches.open(d)));
    assert.equal(new Set(sent.map((s) => s.txHash)).size, 1, "one transaction carried them all");
    assert.deepEqual(batches.calls.trustOpen.slice(callsBefore), [3]);
    assert.equal(batches.calls.open.length, 0, "nothing went to LilyDeals");
    assert.deepEqual(
      sent.map((s) => s.trust?.index),
      [0, 1, 2],
    );
    assert.equal(new Set(sent.map((s) => s.trust!.batchNo)).size, 1);
    assert.equal(sent[0]!.trust!.leaves.length, 3);
    for (const d of deals) assert.equal(await stateOf(d), "open");
    assert.equal(await trustEscrow(jobCreator), before - 3n * PRICE);
  });

  test("a deal the job creator opened first fails alone as DealsAlreadyOpened (the chain is to be looked at); the rest open", async () => {
    const [taken, a] = await Promise.all([signedDeal(), signedDeal()]);
    await openTrustDeals(jobCreator, { deals: [{ deal: routedTrustDeal(routedOf(taken!)), jobCreatorSig: "0x", providerSig: taken!.providerSig }] });
    const [t, ok] = await Promise.allSettled([batches.open(taken!), batches.open(a!)]);
    assert.equal(t.status, "rejected");
    assert.equal(refusal((t as PromiseRejectedResult).reason), "DealsAlreadyOpened");
    assert.equal(ok.status, "fulfilled");
  });

  test("a job creator signature over another nonce or other terms is refused alone (DealsInvalidSignature); nothing of it opens", async () => {
    const [good, forged, other] = await Promise.all([signedDeal(), signedDeal(), signedDeal()]);
    // The job creator's real signature, but over another deal's TrustDeal (another nonce): it must not open this one.
    const attack = { ...forged!, jobCreatorSig: other!.jobCreatorSig };
    const before = await trustEscrow(jobCreator);
    const [g, bad] = await Promise.allSettled([batches.open(good!), batches.open(attack)]);
    assert.equal(g.status, "fulfilled");
    assert.equal(refusal((bad as PromiseRejectedResult).reason), "DealsInvalidSignature");
    assert.equal(await stateOf(forged!), "none");
    assert.equal(await trustEscrow(jobCreator), before - PRICE);
  });

  test("delivered deals of two batches settle in one call per batch; the provider is paid once each; a second settle is DealsNotOpen", async () => {
    const first = await Promise.all([signedDeal(), signedDeal()]);
    const firstSent = await Promise.all(first.map((d) => batches.open(d)));
    const second = await Promise.all([signedDeal(), signedDeal()]);
    const secondSent = await Promise.all(second.map((d) => batches.open(d)));
    assert.notEqual(firstSent[0]!.trust!.batchNo, secondSent[0]!.trust!.batchNo);
    const callsBefore = batches.calls.settle.length;
    const paidBefore = await trustEscrow(provider);
    const items = [...first.map((d, i) => ({ d, batch: firstSent[i]!.trust! })), ...second.map((d, i) => ({ d, batch: secondSent[i]!.trust! }))];
    const settled = await Promise.all(items.map(({ d, batch }) => batches.settle({ ...local(d), trustBatchNo: batch.batchNo })));
    assert.deepEqual(
      settled.map((s) => s.trustBatchNo),
      items.map((i) => i.batch.batchNo),
    );
    assert.ok(settled.every((s) => s.settled));
    assert.deepEqual(batches.calls.settle.slice(callsBefore), [4], "one batcher call");
    assert.equal(new Set(settled.map((s) => s.txHash)).size, 2, "one transaction per batch");
    for (const { d } of items) assert.equal(await stateOf(d), "settled");
    // Price and collateral back for each, exactly once.
    assert.equal(await trustEscrow(provider), paidBefore + 4n * (PRICE + COLLATERAL));
    const again = await batches.settle(local(first[0]!, firstSent[0]!.trust!.batchNo)).catch((e) => e);
    assert.equal(refusal(again), "DealsNotOpen");
    assert.equal(await trustEscrow(provider), paidBefore + 4n * (PRICE + COLLATERAL));
  });

  test("a non-trust deal on the same network still goes to LilyDeals", async () => {
    const d = await signedDeal(Policy.optimistic);
    const openBefore = batches.calls.open.length;
    const trustBefore = batches.calls.trustOpen.length;
    // LilyDeals' own check of the policy's challenge window (LilyTrustDeals has none) answers it: it went there.
    const r = await batches.open(d).catch((e) => e);
    assert.equal(batches.calls.open.length, openBefore + 1);
    assert.equal(batches.calls.trustOpen.length, trustBefore);
    assert.equal(refusal(r), "DealsChallengeWindowOutOfRange");
  });

  test("a trust deal on a network without LilyTrustDeals opens on LilyDeals, signed as a Deal", async () => {
    const { trustDeals: _, ...withoutTrust } = addresses;
    const client = createLilyClient({ rpcUrl: anvil.rpcUrl, account: provider.account!, addresses: withoutTrust });
    const plain = createChainBatches(client);
    const d = await signedDeal(Policy.trust, withoutTrust);
    const sent = await plain.open(d);
    assert.equal(sent.trust, undefined);
    assert.deepEqual([plain.calls.open.length, plain.calls.trustOpen.length], [1, 0]);
    assert.equal(await dealState(client, { dealId: d.id }), "open");
    assert.equal(await stateOf(d), "none");
  });

  test("a deal settles even when the batch number it was given names another batch: its own is found on the chain", async () => {
    const [a, b] = await Promise.all([signedDeal(), signedDeal()]);
    const sentA = await batches.open(a!);
    const sentB = await batches.open(b!);
    const r = await batches.settle(local(a!, sentB.trust!.batchNo));
    assert.equal(r.settled, true);
    assert.equal(r.trustBatchNo, sentA.trust!.batchNo);
    assert.equal(await stateOf(a!), "settled");
    // Never opened: nothing to prove against, and not a refusal (the next pass looks again).
    const unopened = await signedDeal();
    const never = await batches.settle(local(unopened)).catch((e) => e);
    assert.equal(never.code, "NOT_FOUND");
    assert.equal(refusal(never), undefined);
  });

  test("the batch of an opened deal is found again from the chain: after a restart, and when the number kept names another batch", async () => {
    const [a, b] = await Promise.all([signedDeal(), signedDeal()]);
    const sentA = await batches.open(a!);
    const sentB = await batches.open(b!);
    // A restarted provider: a new client (nothing kept in memory), the batch number from its database.
    const restarted = createLilyClient({ rpcUrl: anvil.rpcUrl, account: provider.account!, addresses });
    const found = await trustBatchOf(restarted, local(a!, sentA.trust!.batchNo));
    assert.deepEqual(found, sentA.trust);
    // A number that now names another batch (the chain lost the opening's blocks and reused it): the leaf is looked for again.
    const moved = await trustBatchOf(restarted, local(a!, sentB.trust!.batchNo));
    assert.deepEqual(moved, sentA.trust);
    // Leaves kept from a receipt whose blocks the chain lost: they hold the leaf, but not the chain's root for that number.
    const leafA = trustLeaf(a!.deal.provider, trustTermsOf(routedTrustDeal(routedOf(a!))));
    keepTrustBatch(restarted, sentB.trust!.batchNo, [leafA, sentB.trust!.leaves[0]!]);
    assert.deepEqual(await trustBatchOf(restarted, local(a!, sentB.trust!.batchNo)), sentA.trust);
    // No number kept (opened by another party): found by its leaf.
    assert.deepEqual(await trustBatchOf(restarted, local(b!)), sentB.trust);
    // Never opened: nothing to prove against.
    assert.equal(await trustBatchOf(restarted, local(await signedDeal(), sentA.trust!.batchNo)), undefined);
  });
});
