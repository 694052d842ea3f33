// The route a negotiated deal takes on chain: a trust deal on a network with LilyTrustDeals is
// signed, opened, read and shown there as the TrustDeal derived from it; any other deal, or any
// deal on a network without the contract, stays on LilyDeals. Attacks: a signature over the other
// form, or over another deal's nonce, must not pass for the routed one.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { keccak256, parseEther, toHex, type Hex } from "viem";
import { Policy, signRecord, trustDealOf, trustNonceOf, type DealMessage } from "@lily/protocol";
import {
  dealDomain,
  dealEscrow,
  dealId,
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
} from "../src/index.ts";
import { startTrustChain } from "./trustChain.ts";

let anvil: Anvil;
let addresses: LilyAddresses;
let jobCreator: LilyClient;
let provider: LilyClient;
let stranger: LilyClient;
let serial = 0;

before(async () => {
  const chain = await startTrustChain();
  ({ anvil, addresses } = chain);
  [jobCreator, provider, stranger] = chain.accounts;
  for (const party of [jobCreator, provider]) await chain.fundTrustEscrow(party, parseEther("100"));
});
after(() => anvil?.stop());

/** A negotiated deal between the two parties, distinct from every other (its job offer). */
async function negotiated(policy: number = Policy.trust): Promise<{ id: Hex; deal: DealMessage }> {
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
  return { id: dealId(addresses, deal), deal };
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
    assert.equal(signedFormOf(addresses, trust.id, trust.deal).primaryType, "TrustDeal");
    assert.equal(signedFormOf(withoutTrust, trust.id, trust.deal).primaryType, "Deal");
    // The nonce is the id's, so the same deal always signs the same trust deal.
    assert.equal(trustDealOf(trust.id, trust.deal).nonce, BigInt(trust.id) >> 192n);
  });

  test("a signature over the other form, or by someone else, does not pass for the routed deal", async () => {
    const { id, deal } = await negotiated();
    const routed = await signDealFor(provider.account!, addresses, id, deal);
    await verifyDealSignature(addresses, id, deal, routed, { signer: deal.provider, field: "providerSignature" });
    const asDeal = await signRecord(provider.account!, dealDomain(addresses), "Deal", deal);
    await assert.rejects(verifyDealSignature(addresses, id, deal, asDeal, { signer: deal.provider, field: "providerSignature" }), {
      code: "BAD_SIGNATURE",
      field: "providerSignature",
    });
    const other = await negotiated();
    const otherNonce = await signDealFor(provider.account!, addresses, other.id, other.deal);
    await assert.rejects(verifyDealSignature(addresses, id, deal, otherNonce, { signer: deal.provider, field: "providerSignature" }), {
      code: "BAD_SIGNATURE",
    });
    const byJobCreator = await signDealFor(jobCreator.account!, addresses, id, deal);
    await assert.rejects(verifyDealSignature(addresses, id, deal, byJobCreator, { signer: deal.provider, field: "providerSignature" }), {
      code: "BAD_SIGNATURE",
    });
  });

  test("the routed deal's state and events come from LilyTrustDeals: opened in a batch, then settled", async () => {
    const a = await negotiated();
    const b = await negotiated();
    assert.equal((await routedDealRecord(stranger, { dealId: a.id, deal: a.deal })).state, "none");
    assert.deepEqual(await trustDealEvents(stranger, { dealId: a.id, deal: a.deal }), []);
    const signed = await Promise.all(
      [a, b].map(async (n) => ({
        deal: trustDealOf(n.id, n.deal),
        jobCreatorSig: await signDealFor(jobCreator.account!, addresses, n.id, n.deal),
        providerSig: "0x" as Hex,
      })),
    );
    const opened = await openTrustDeals(provider, { deals: signed });
    assert.deepEqual(opened.skipped, []);
    assert.equal((await routedDealRecord(stranger, { dealId: a.id, deal: a.deal })).state, "open");
    await settleTrustDeals(provider, { batchNo: opened.batchNo, leaves: opened.leaves, deals: [trustTermsOf(signed[1]!.deal)] });
    assert.equal((await routedDealRecord(stranger, { dealId: b.id, deal: b.deal })).state, "settled");
    assert.equal((await routedDealRecord(stranger, { dealId: a.id, deal: a.deal })).state, "open");
    const events = await trustDealEvents(stranger, { dealId: b.id, deal: b.deal });
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
      (await trustDealEvents(stranger, { dealId: a.id, deal: a.deal })).map((e) => e.name),
      ["DealsOpened"],
    );
    assert.equal(trustNonceOf(b.id), signed[1]!.deal.nonce);
  });
});
