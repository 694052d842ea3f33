// Where a negotiated deal goes on chain. The roles negotiate one `Deal` whatever the policy (its
// digest is the deal's id off chain); a trust deal on a network with a LilyTrustDeals contract is
// signed, opened, settled and timed out there as the `TrustDeal` derived from it (protocol's
// trustDealOf), every other deal on LilyDeals as itself. Every role asks these functions rather
// than deciding for itself, so the parties of a deal always agree on which contract and which
// signed form it takes: the network's addresses decide, and the parties share them.
import type { Address, Hex, LocalAccount } from "viem";
import { isTrustDeal, signRecord, trustDealOf, verifyRecord, type DealMessage, type Domain, type TrustDealMessage } from "@lily/protocol";
import type { LilyAddresses } from "../deploy.ts";
import type { LilyClient } from "../client.ts";
import { dealDomain } from "../deal.ts";
import { dealRecord, type DealRecordReturnType } from "../actions/dealRecord.ts";
import { trustDealDomain, trustTermsOf } from "./trustDeal.ts";
import { trustDealState } from "./trustDealState.ts";
import { findTrustDeal, type TrustBatchLog } from "./trustBatch.ts";

type RouteAddresses = Pick<LilyAddresses, "chainId" | "deals" | "trustDeals">;

/** Whether this deal opens on LilyTrustDeals: a trust deal, on a network that has the contract. */
export function onTrustDeals(addresses: Pick<LilyAddresses, "deals" | "trustDeals">, deal: Pick<DealMessage, "policy">): boolean {
  return addresses.trustDeals !== undefined && isTrustDeal(deal);
}

/** What the parties sign for a deal: the Deal under LilyDeals, or its TrustDeal under LilyTrustDeals. */
export type SignedForm =
  | { domain: Domain; primaryType: "Deal"; message: DealMessage }
  | { domain: Domain; primaryType: "TrustDeal"; message: TrustDealMessage };

export function signedFormOf(addresses: RouteAddresses, dealId: Hex, deal: DealMessage): SignedForm {
  if (onTrustDeals(addresses, deal)) return { domain: trustDealDomain(addresses), primaryType: "TrustDeal", message: trustDealOf(dealId, deal) };
  return { domain: dealDomain(addresses), primaryType: "Deal", message: deal };
}

/** A party's signature over the deal, in the form its contract takes. */
export function signDealFor(account: LocalAccount, addresses: RouteAddresses, dealId: Hex, deal: DealMessage): Promise<Hex> {
  const f = signedFormOf(addresses, dealId, deal);
  return f.primaryType === "Deal" ? signRecord(account, f.domain, "Deal", f.message) : signRecord(account, f.domain, "TrustDeal", f.message);
}

/** Throws BAD_SIGNATURE naming `field` unless `signer` signed the deal in the form its contract takes. */
export function verifyDealSignature(
  addresses: RouteAddresses,
  dealId: Hex,
  deal: DealMessage,
  signature: Hex,
  opts: { signer: Address; field: string },
): Promise<void> {
  const f = signedFormOf(addresses, dealId, deal);
  return f.primaryType === "Deal"
    ? verifyRecord(f.domain, "Deal", f.message, signature, opts)
    : verifyRecord(f.domain, "TrustDeal", f.message, signature, opts);
}

/** The escrow contract whose balances back a deal of this policy. */
export function dealEscrow(addresses: Pick<LilyAddresses, "deals" | "trustDeals">, deal: Pick<DealMessage, "policy">): Address {
  return onTrustDeals(addresses, deal) ? addresses.trustDeals! : addresses.deals;
}

/**
 * The deal's record on whichever contract holds it. A trust deal on LilyTrustDeals stores only its
 * state: no result digest (the provider's signed Result is the result's only word) and no times.
 */
export async function routedDealRecord(client: LilyClient, { dealId, deal }: { dealId: Hex; deal: DealMessage }): Promise<DealRecordReturnType> {
  if (!onTrustDeals(client.addresses, deal)) return dealRecord(client, { dealId });
  const state = await trustDealState(client, { provider: deal.provider, nonce: trustDealOf(dealId, deal).nonce });
  const zero = `0x${"0".repeat(64)}` as Hex;
  return { state, resultDigest: zero, committedAt: 0n, commitBlock: 0n, drawBlock: 0n, challengedAt: 0n, seed: 0n };
}

/**
 * The batch that opened a trust deal and its place in it (from the chain's `DealsOpened` events
 * since `fromBlock`), for a party that did not open it; undefined while it has not opened.
 */
export function locateTrustDeal(
  client: LilyClient,
  { dealId, deal, fromBlock }: { dealId: Hex; deal: DealMessage; fromBlock?: bigint },
): Promise<(TrustBatchLog & { index: number }) | undefined> {
  return findTrustDeal(client, { provider: deal.provider, terms: trustTermsOf(trustDealOf(dealId, deal)), ...(fromBlock !== undefined && { fromBlock }) });
}
