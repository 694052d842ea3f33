// The job creator's own transactions on a deal routed to LilyTrustDeals: opening it when no one
// else did within the grace (the job creator sends, so its own signature is left out: "0x"), and
// timing out a provider silent past its deadline (the refund and the provider's collateral).
import type { Hex } from "viem";
import { openTrustDeals, routedTrustDeal, timeOutTrustDeals, trustTermsOf } from "@lily/chain";
import { LilyError, hashRecord, type DealMessage } from "@lily/protocol";
import type { JobCreatorContext } from "./context.ts";
import type { SignedDeal } from "./nextStep.ts";
import { trustLocation, type RoutedMemory } from "./routedDeal.ts";

/** A deal's id: its digest under the LilyDeals domain, whichever contract it opens on. */
export function dealIdOf(ctx: JobCreatorContext, deal: DealMessage): Hex {
  return hashRecord(ctx.domain, "Deal", deal);
}

/** Open the routed deal with the provider's TrustDeal signature; an item the chain skips is a refusal (CONFLICT naming why). */
export async function openRouted(ctx: JobCreatorContext, d: { deal: DealMessage; trustNonce: bigint | undefined; providerSig: Hex }): Promise<void> {
  const dealId = dealIdOf(ctx, d.deal);
  const trustDeal = routedTrustDeal({ dealId, deal: d.deal, trustNonce: d.trustNonce });
  const r = await openTrustDeals(ctx.chain, { deals: [{ deal: trustDeal, jobCreatorSig: "0x", providerSig: d.providerSig }] });
  const [skipped] = r.skipped;
  if (skipped)
    throw new LilyError({
      code: "CONFLICT",
      field: "deal",
      message: `LilyTrustDeals did not open deal ${dealId}: ${skipped.reason}`,
      details: { error: skipped.reason },
    });
}

/**
 * Time the routed deal out, proving it against the batch that opened it. False when it did not
 * (its opening not in the logs yet, or the chain skipped it: timed out or settled meanwhile, clock
 * not past): the next pass reads the state again.
 */
export async function timeOutRouted(ctx: JobCreatorContext, s: SignedDeal, memory: RoutedMemory): Promise<boolean> {
  const opened = await trustLocation(ctx, s, memory);
  if (!opened) return false;
  const terms = trustTermsOf(routedTrustDeal(s));
  const r = await timeOutTrustDeals(ctx.chain, { batchNo: opened.batchNo, leaves: opened.leaves, provider: s.deal.provider, deals: [terms] });
  return r.timedOut.length > 0;
}
