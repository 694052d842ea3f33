// The route a negotiated deal takes on chain: a trust deal on a network with LilyTrustDeals is
// signed, opened, read and shown there as the TrustDeal derived from it; any other deal, or any
// deal on a network without the contract, stays on LilyDeals. Attacks: a signature over the other
// form, or under another nonce than its provider's, must not pass for the routed one.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { keccak256, parseEther, toHex, type Hex } from "viem";
import { Policy, signRecord, trustDealOf, type DealMessage } from "@lily/protocol";
import {
  dealDomain,
  dealEscrow,
  dealId,
  locateTrustDeal,
  onTrustDeals,
  openTrustDeals,
  routedDealRecord,
  settleTrustDeals,
  signDealFor,
  signedFormOf,
  trustDealEvents,
  trustTermsOf,
  verifyDealSignature,
  type Anvil,
  type LilyAddresses,
  type LilyClient,
  type RoutedDeal,
} from "../src/index.ts";
import { startTrustChain } from "./trustChain.ts";

let anvil: Anvil;
let addresses: LilyAddresses;
let jobCreator: LilyClient;
let provider: LilyClient;
let stranger: LilyClient;
let serial = 0;
/** The provider's nonces, in sequence as a provider picks them. */
let nextNonce = 1_000n;

before(async () => {
  const chain = await startTrustChain();
  ({ anvil, addresses } = chain);
  [jobCreator, provider, stranger] = chain.accounts;
  for (const party of [jobCreator, provider]) await chain.fundTrustEscrow(party, parseEther("100"));
});
after(() => anvil?.stop());

/** A negotiated deal between the two parties, distinct from every other (its job offer), with its provider's next nonce. */
async function negotiated(policy: number = Policy.trust): Promise<RoutedDeal & { trustNonce: bigint }> {
  const now = (await provider.publicClient.getBlock()).timestamp;
  const zero = `0x${"0".repeat(64)}` as Hex;
  const deal: DealMessage = {
    jobCreator: jobCreator.account!.address,
    provider: provider.account!.address,
    jobOffer: keccak256(toHex(`route job ${serial++}`)),
    resourceOffer: keccak256(toHex("route resource")),
    price: parseEther("1"),
    collateral: parseEther("2"),
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
  return { dealId: dealId(addresses, deal), deal, trustNonce: nextNonce++ };
}

describe("deal route", () => {
  test("only a trust deal on a network naming LilyTrustDeals takes the trust route, with its escrow", async () => {
    const trust = await negotiated();
    const optimistic = await negotiated(Policy.optimistic);
    const { trustDeals, ...withoutTrust } = addresses;
    assert.equal(onTrustDeals(addresses, trust.deal), true);
    assert.equal(onTrustDeals(addresses, optimistic.deal), false);
    assert.equal(onTrustDeals(withoutTrust, trust.deal), false);
    assert.equal(dealEscrow(addresses, trust.deal), trustDeals);
    assert.equal(dealEscrow(withoutTrust, trust.deal), addresses.deals);
    const form = signedFormOf(addresses, trust);
    assert.equal(form.primaryType, "TrustDeal");
    // Signed under the nonce its provider picked, whatever the deal's id.
    assert.equal(form.primaryType === "TrustDeal" && form.message.nonce, trust.trustNonce);
    assert.equal(signedFormOf(withoutTrust, trust).primaryType, "Deal");
    // A deal on LilyDeals needs no nonce.
    assert.equal(signedFormOf(addresses, { ...optimistic, trustNonce: undefined }).primaryType, "Deal");
  });

  test("a routed deal has no signed form before its provider picks a nonce, and reads as never opened", async () => {
    const d = { ...(await negotiated()), trustNonce: undefined };
    assert.throws(() => signedFormOf(addresses, d), { code: "INVALID_INPUT", field: "trustNonce" });
    await assert.rejects(signDealFor(provider.account!, addresses, d), { code: "INVALID_INPUT", field: "trustNonce" });
    assert.equal((await routedDealRecord(stranger, d)).state, "none");
    assert.equal(await locateTrustDeal(stranger, d), undefined);
    assert.deepEqual(await trustDealEvents(stranger, d), []);
  });

  test("a signature over the other form, another nonce, or by someone else, does not pass for the routed deal", async () => {
    const d = await negotiated();
    const routed = await signDealFor(provider.account!, addresses, d);
    await verifyDealSignature(addresses, d, routed, { signer: d.deal.provider, field: "providerSignature" });
    const asDeal = await signRecord(provider.account!, dealDomain(addresses), "Deal", d.deal);
    await assert.rejects(verifyDealSignature(addresses, d, asDeal, { signer: d.deal.provider, field: "providerSignature" }), {
      code: "BAD_SIGNATURE",
      field: "providerSignature",
    });
    const underAnotherNonce = await signDealFor(provider.account!, addresses, { ...d, trustNonce: d.trustNonce + 1n });
    await assert.rejects(verifyDealSignature(addresses, d, underAnotherNonce, { signer: d.deal.provider, field: "providerSignature" }), {
      code: "BAD_SIGNATURE",
    });
    const byJobCreator = await signDealFor(jobCreator.account!, addresses, d);
    await assert.rejects(verifyDealSignature(addresses, d, byJobCreator, { signer: d.deal.provider, field: "providerSignature" }), {
      code: "BAD_SIGNATURE",
    });
  });

  test("the routed deal's state and events come from LilyTrustDeals: opened in a batch, then settled", async () => {
    const a = await negotiated();
    const b = await negotiated();
    assert.equal((await routedDealRecord(stranger, a)).state, "none");
    assert.deepEqual(await trustDealEvents(stranger, a), []);
    const signed = await Promise.all(
      [a, b].map(async (n) => ({
        deal: trustDealOf(n.deal, n.trustNonce),
        jobCreatorSig: await signDealFor(jobCreator.account!, addresses, n),
        providerSig: "0x" as Hex,
      })),
    );
    const opened = await openTrustDeals(provider, { deals: signed });
    assert.deepEqual(opened.skipped, []);
    assert.equal((await routedDealRecord(stranger, a)).state, "open");
    await settleTrustDeals(provider, { batchNo: opened.batchNo, leaves: opened.leaves, deals: [trustTermsOf(signed[1]!.deal)] });
    assert.equal((await routedDealRecord(stranger, b)).state, "settled");
    assert.equal((await routedDealRecord(stranger, a)).state, "open");
    const events = await trustDealEvents(stranger, b);
    assert.deepEqual(
      events.map((e) => [e.name, e.batchSize, e.args.batchNo]),
      [
        ["DealsOpened", 2, opened.batchNo],
        ["DealsSettled", 1, opened.batchNo],
      ],
    );
    assert.equal(events[0]!.txHash, opened.txHash);
    // The other deal of the batch was not settled by that call.
    assert.deepEqual(
      (await trustDealEvents(stranger, a)).map((e) => e.name),
      ["DealsOpened"],
    );
  });

  test("another job creator's deal signed under a nonce a deal took neither opens nor is found as opened", async () => {
    const taken = await negotiated();
    const other = await negotiated();
    // A leaf covers the parties and money terms, not the offers: a twin of the same job creator and
    // terms would share the leaf (the job creator refuses to sign one, see the SDK), another's cannot.
    const twin = { ...other, deal: { ...other.deal, jobCreator: stranger.account!.address }, trustNonce: taken.trustNonce };
    const open = async (d: RoutedDeal & { trustNonce: bigint }, signer: LilyClient) =>
      openTrustDeals(provider, {
        deals: [{ deal: trustDealOf(d.deal, d.trustNonce), jobCreatorSig: await signDealFor(signer.account!, addresses, d), providerSig: "0x" as Hex }],
      });
    assert.deepEqual((await open(taken, jobCreator)).skipped, []);
    assert.deepEqual(
      (await open(twin, stranger)).skipped.map((s) => s.reason),
      ["TrustNonceUsed"],
    );
    // The nonce's state is the other deal's: only the twin's own leaf would say it opened, and no batch holds it.
    assert.equal((await routedDealRecord(stranger, twin)).state, "open");
    assert.equal(await locateTrustDeal(stranger, twin), undefined);
    assert.deepEqual(await trustDealEvents(stranger, twin), []);
  });
});
