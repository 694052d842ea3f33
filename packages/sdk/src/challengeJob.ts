// challengeJob: the job creator disputes a committed result under the optimistic policy. The
// mediation fee was reserved when the deal opened; a mediator both parties accepted, drawn from
// randomness neither controls, re-runs the job and rules. A false challenge costs the fee.
import type { Hex } from "viem";
import { challenge, dealState, onTrustDeals } from "@lily/chain";
import { LilyError, Policy, type Deal } from "@lily/protocol";
import type { JobCreatorContext } from "./context.ts";

export async function challengeJob(ctx: JobCreatorContext, jobOfferId: Hex, reason?: Hex): Promise<{ dealId: Hex; txHash: Hex }> {
  const entry = ctx.journal.get(jobOfferId);
  if (!entry?.deal || !entry.dealId) throw new LilyError({ code: "NOT_FOUND", field: "id", message: `job ${jobOfferId} has no deal to challenge` });
  refuseRouted(ctx, entry.dealId, entry.deal);
  if (entry.deal.policy !== Policy.optimistic) {
    throw new LilyError({
      code: "INVALID_INPUT",
      field: "id",
      message: "only results under the optimistic policy can be challenged",
      hint: "choose it with `lily run --policy optimistic:<window>`",
    });
  }
  const state = await dealState(ctx.chain, { dealId: entry.dealId });
  if (state !== "committed")
    throw new LilyError({ code: "CONFLICT", field: "id", message: `deal ${entry.dealId} is ${state}: there is no committed result to challenge` });
  const { txHash } = await challenge(ctx.chain, { deal: entry.deal, reason });
  return { dealId: entry.dealId, txHash };
}

/**
 * A trust deal routed to LilyTrustDeals has no challenge: that contract holds no result and no
 * mediation, the provider's settlement is final. Refused up front, naming the deal's policy.
 */
export function refuseRouted(ctx: JobCreatorContext, dealId: Hex, deal: Deal): void {
  if (!onTrustDeals(ctx.chain.addresses, deal)) return;
  throw new LilyError({
    code: "INVALID_INPUT",
    field: "deal.policy",
    message: `deal ${dealId} is a trust deal on LilyTrustDeals: it cannot be challenged (only results under the optimistic policy can)`,
    hint: "choose a policy that can be challenged with `lily run --policy optimistic:<window>`",
  });
}
