// Where a negotiated deal goes on chain. The roles negotiate one `Deal` whatever the policy (its
// digest is the deal's id off chain); a trust deal on a network with a LilyTrustDeals contract is
// signed, opened, settled and timed out there as the `TrustDeal` derived from it and the nonce its
// provider picked (protocol's trustDealOf), every other deal on LilyDeals as itself. Every role asks these functions rather
// than deciding for itself, so the parties of a deal always agree on which contract and which
// signed form it takes: the network's addresses decide, and the parties share them.
import type { Address, Hex, LocalAccount } from "viem";
import { LilyError, isTrustDeal, signRecord, trustDealOf, verifyRecord, type DealMessage, type Domain, type TrustDealMessage } from "@lily/protocol";
import type { LilyAddresses } from "../deploy.ts";
import type { LilyClient } from "../client.ts";
import { dealDomain } from "../deal.ts";
import { dealRecord, type DealRecordReturnType } from "../actions/dealRecord.ts";
import { trustDealDomain, trustTermsOf } from "./trustDeal.ts";
import { trustDealState } from "./trustDealState.ts";
import { findTrustDeal, type TrustBatchLog } from "./trustBatch.ts";

type RouteAddresses = Pick<LilyAddresses, "chainId" | "deals" | "trustDeals">;

/**
 * A negotiated deal as the roles hold it: its id (the Deal's digest), its terms, and, for a deal
 * routed to LilyTrustDeals once its provider has signed, the nonce the provider signed it under.
 * `trustNonce` is never optional to write: a caller that forgot it would read a routed deal as never
 * opened, so each one says `undefined` where it has none.
 */
export interface RoutedDeal {
  dealId: Hex;
  deal: DealMessage;
  trustNonce: bigint | undefined;
}

/** Whether this deal opens on LilyTrustDeals: a trust deal, on a network that has the contract. */
export function onTrustDeals(addresses: Pick<LilyAddresses, "deals" | "trustDeals">, deal: Pick<DealMessage, "policy">): boolean {
  return addresses.trustDeals !== undefined && isTrustDeal(deal);
}

/** The TrustDeal a routed deal is signed and opened as; INVALID_INPUT naming `trustNonce` before its provider picked one. */
export function routedTrustDeal({ dealId, deal, trustNonce }: RoutedDeal): TrustDealMessage {
  if (trustNonce === undefined)
    throw new LilyError({
      code: "INVALID_INPUT",
      field: "trustNonce",
      message: `trustNonce: deal ${dealId} opens on LilyTrustDeals, and its provider has not yet picked its nonce`,
    });
  return trustDealOf(deal, trustNonce);
}

/** What the parties sign for a deal: the Deal under LilyDeals, or its TrustDeal under LilyTrustDeals. */
export type SignedForm =
  | { domain: Domain; primaryType: "Deal"; message: DealMessage }
  | { domain: Domain; primaryType: "TrustDeal"; message: TrustDealMessage };

export function signedFormOf(addresses: RouteAddresses, d: RoutedDeal): SignedForm {
  if (onTrustDeals(addresses, d.deal)) return { domain: trustDealDomain(addresses), primaryType: "TrustDeal", message: routedTrustDeal(d) };
  return { domain: dealDomain(addresses), primaryType: "Deal", message: d.deal };
}

/** A party's signature over the deal, in the form its contract takes. */
export async function signDealFor(account: LocalAccount, addresses: RouteAddresses, d: RoutedDeal): Promise<Hex> {
  const f = signedFormOf(addresses, d);
  return f.primaryType === "Deal" ? signRecord(account, f.domain, "Deal", f.message) : signRecord(account, f.domain, "TrustDeal", f.message);
}

/** Throws BAD_SIGNATURE naming `field` unless `signer` signed the deal in the form its contract takes. */
export async function verifyDealSignature(addresses: RouteAddresses, d: RoutedDeal, signature: Hex, opts: { signer: Address; field: string }): Promise<void> {
  const f = signedFormOf(addresses, d);
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
 * A routed deal without a nonce has not been signed by its provider, so it cannot have opened.
 */
export async function routedDealRecord(client: LilyClient, d: RoutedDeal): Promise<DealRecordReturnType> {
  if (!onTrustDeals(client.addresses, d.deal)) return dealRecord(client, { dealId: d.dealId });
  const state = d.trustNonce === undefined ? "none" : await trustDealState(client, { provider: d.deal.provider, nonce: d.trustNonce });
  const zero = `0x${"0".repeat(64)}` as Hex;
  return { state, resultDigest: zero, committedAt: 0n, commitBlock: 0n, drawBlock: 0n, challengedAt: 0n, seed: 0n };
}

/**
 * The batch that opened a trust deal and its place in it (from the chain's `DealsOpened` events
 * since `fromBlock`), for a party that did not open it; undefined while it has not opened (and
 * before its provider picked a nonce, when it cannot have).
 */
export async function locateTrustDeal(client: LilyClient, d: RoutedDeal & { fromBlock?: bigint }): Promise<(TrustBatchLog & { index: number }) | undefined> {
  if (d.trustNonce === undefined) return undefined;
  return findTrustDeal(client, {
    provider: d.deal.provider,
    terms: trustTermsOf(routedTrustDeal(d)),
    ...(d.fromBlock !== undefined && { fromBlock: d.fromBlock }),
  });
}
