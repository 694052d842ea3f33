// The (provider, nonce) pairs this job creator signed routed trust deals under. LilyTrustDeals
// opens one deal per (provider, nonce), and the leaf that finds a deal in its batch covers its
// parties and money terms but not its offers: two of this job creator's deals signed under one
// pair, with the same terms, would look the same on chain, and a provider could open one and let
// the other pass for opened. So the job creator never signs a second deal under a pair it signed.
// Built from the journal once per process, then kept by every signing.
import type { Address, Hex } from "viem";
import type { JobJournal } from "./journal.ts";

const byJournal = new WeakMap<JobJournal, Map<string, Hex>>();

const keyOf = (provider: Address, nonce: bigint) => `${provider.toLowerCase()}:${nonce}`;

function signedPairs(journal: JobJournal): Map<string, Hex> {
  let pairs = byJournal.get(journal);
  if (!pairs) {
    pairs = new Map();
    for (const e of journal.list()) if (e.deal && e.dealId && e.trustNonce !== undefined) pairs.set(keyOf(e.deal.provider, e.trustNonce), e.dealId);
    byJournal.set(journal, pairs);
  }
  return pairs;
}

/** The deal, other than `dealId`, this job creator already signed under the provider's nonce; undefined if none. */
export function otherDealUnderNonce(journal: JobJournal, d: { dealId: Hex; provider: Address; nonce: bigint }): Hex | undefined {
  const owner = signedPairs(journal).get(keyOf(d.provider, d.nonce));
  return owner && owner.toLowerCase() !== d.dealId.toLowerCase() ? owner : undefined;
}

/** Remember that this job creator signed `dealId` under the provider's nonce. */
export function noteNonceSigned(journal: JobJournal, d: { dealId: Hex; provider: Address; nonce: bigint }): void {
  signedPairs(journal).set(keyOf(d.provider, d.nonce), d.dealId);
}
