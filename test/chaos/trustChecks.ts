// The chaos checks of the deals our job creators routed to LilyTrustDeals. That contract names no
// deal by id: a batch opens leaves (`trustLeaf` of the provider and the settlement terms), and an
// ending moves (provider, nonce). Each journal entry holds its deal and the nonce both parties
// signed, so every deal of ours has one leaf and one (provider, nonce) to look for in the log.
import type { Address, Hex } from "viem";
import { onTrustDeals, trustLeaf, trustTermsOf, type LilyAddresses } from "@lily/chain";
import { trustDealOf } from "@lily/protocol";
import type { SignedDeal } from "@lily/sdk";
import { trustKey, type TrustHistory } from "./ledger.ts";

/** A deal of ours on LilyTrustDeals, with what the contract's events name it by. */
export interface OurTrustDeal extends SignedDeal {
  trustNonce: bigint;
  leaf: Hex;
  key: string;
}

/** The signed deals that route to LilyTrustDeals, each with its leaf and (provider, nonce). */
export function ourTrustDeals(addresses: Pick<LilyAddresses, "deals" | "trustDeals">, signed: readonly SignedDeal[]): OurTrustDeal[] {
  return signed.flatMap((s) => {
    // Before its provider picked a nonce, a routed deal was never signed by both: it cannot open.
    if (!onTrustDeals(addresses, s.deal) || s.trustNonce === undefined) return [];
    const leaf = trustLeaf(s.deal.provider, trustTermsOf(trustDealOf(s.deal, s.trustNonce))).toLowerCase() as Hex;
    return [{ ...s, trustNonce: s.trustNonce, leaf, key: trustKey(s.deal.provider, s.trustNonce) }];
  });
}

/** How the chain's log says a deal of ours ended: none (never opened), open, settled or timedOut. */
export function trustOutcome(h: TrustHistory, d: OurTrustDeal): "none" | "open" | "settled" | "timedOut" {
  if (!h.openings.has(d.leaf)) return "none";
  const end = h.endings.get(d.key)?.[0];
  return end === undefined ? "open" : end.name === "DealsSettled" ? "settled" : "timedOut";
}

/** Times the provider was paid for the deal (DealsSettled naming its (provider, nonce) once it opened). */
export function trustPaidTimes(h: TrustHistory, d: OurTrustDeal): number {
  return h.openings.has(d.leaf) ? (h.endings.get(d.key) ?? []).filter((e) => e.name === "DealsSettled").length : 0;
}

/**
 * Every opened leaf is a deal of ours, opened in one batch; every ending names a deal of ours that
 * opened, and each that opened ended once, in its own batch; no two of our deals share a
 * (provider, nonce) (its provider's sequence handed one out twice). One line per problem.
 */
export function trustProblems(h: TrustHistory, ours: readonly OurTrustDeal[]): string[] {
  const problems: string[] = [];
  const byLeaf = new Map(ours.map((d) => [d.leaf, d]));
  const byKey = new Map<string, OurTrustDeal[]>();
  for (const d of ours) byKey.set(d.key, [...(byKey.get(d.key) ?? []), d]);
  for (const [key, ds] of byKey)
    if (new Set(ds.map((d) => d.dealId.toLowerCase())).size > 1)
      problems.push(`provider:nonce ${key} signed for ${ds.length} deals: ${ds.map((d) => d.dealId).join(", ")}`);
  for (const [leaf, batches] of h.openings) {
    const d = byLeaf.get(leaf);
    if (!d) problems.push(`trust leaf ${leaf} opened (batch ${batches.join(", ")}), but no job of ours holds that deal`);
    if (batches.length !== 1) problems.push(`trust deal ${d?.dealId ?? leaf} opened ${batches.length} times (batches ${batches.join(", ")})`);
  }
  for (const [key, ends] of h.endings) {
    const opened = (byKey.get(key) ?? []).filter((d) => h.openings.has(d.leaf));
    if (opened.length === 0) problems.push(`trust ${key}: ${ends.map((e) => e.name).join(", ")}, but no deal of ours under it opened`);
  }
  for (const d of ours) {
    const batches = h.openings.get(d.leaf);
    if (!batches) continue;
    const ends = h.endings.get(d.key) ?? [];
    if (ends.length !== 1)
      problems.push(`trust deal ${d.dealId} (${d.key}) ended ${ends.length} times: ${ends.map((e) => `${e.name} in batch ${e.batchNo}`).join(", ")}`);
    else if (ends[0]!.batchNo !== batches[0]) problems.push(`trust deal ${d.dealId} opened in batch ${batches[0]} but ended in batch ${ends[0]!.batchNo}`);
  }
  return problems;
}

/** A job creator's LilyTrustDeals escrow as its deals should leave it: its deposit, less each settled price, plus each timed-out deal's collateral. */
export function trustEscrowExpected(h: TrustHistory, ours: readonly OurTrustDeal[], jobCreator: Address, deposited: bigint): bigint {
  let expected = deposited;
  for (const d of ours) {
    if (d.deal.jobCreator.toLowerCase() !== jobCreator.toLowerCase()) continue;
    const outcome = trustOutcome(h, d);
    if (outcome === "settled") expected -= d.deal.price;
    else if (outcome === "timedOut") expected += d.deal.collateral;
  }
  return expected;
}
