// The I/O half of the wait loop: carry out the step nextStep chose. Chain actions go through
// @lily/chain (one nonce queue per account). A transaction the chain refuses because someone else
// already did it (a provider opened or tallied the group first, a timeout already claimed) is
// not an error: the next pass reads the new state. A deal routed to LilyTrustDeals is opened and
// timed out there (routedActions.ts).
import { join } from "node:path";
import { claimMediationTimeout, claimTimeout, onTrustDeals, openDeal, openReplicas, settleReplicas } from "@lily/chain";
import { isLilyError, type LilyError } from "@lily/protocol";
import type { JobCreatorContext } from "./context.ts";
import type { JobEntry } from "./journal.ts";
import type { OnProgress } from "./progress.ts";
import type { Step } from "./nextStep.ts";
import type { LoopMemory } from "./observeJob.ts";
import { signProposals, postSignature } from "./signProposals.ts";
import { cancelJobOffer } from "./cancelJobOffer.ts";
import { deliverResult, type JobResult } from "./deliverResult.ts";
import { noMatch } from "./noMatch.ts";
import { dealIdOf, openRouted, timeOutRouted } from "./routedActions.ts";

/** Chain refusals that mean "already done, or not yet": the next pass decides again. */
const SETTLED_ELSEWHERE = new Set([
  "DealsAlreadyOpened",
  "DealsOpenByPassed",
  "DealsDeadlineNotPassed",
  "DealsNotOpen",
  "DealsNotChallenged",
  "DealsMediationNotTimedOut",
  "DealsReplicaNotReady",
  "DealsNoCommittedReplica",
]);

/** Swallow what the next pass will sort out: done by someone else, not yet, or a chain that did not answer. */
function unlessSettledElsewhere(e: unknown): void {
  if (isLilyError(e) && (SETTLED_ELSEWHERE.has(String(e.details.error)) || e.code === "UNREACHABLE")) return;
  throw e;
}

export interface ApplyContext {
  ctx: JobCreatorContext;
  entry: JobEntry;
  memory: LoopMemory;
  progress: OnProgress;
  k: number;
  outDir?: string;
}

/** Apply one step; returns the job's result when it is delivered, throws when the job ended otherwise. */
export async function applyStep(a: ApplyContext, step: Step): Promise<JobResult | undefined> {
  const { ctx, entry, progress } = a;
  switch (step.do) {
    case "wait":
      return undefined;
    case "sign":
      try {
        await signProposals(ctx, entry, step.proposals, a.k, progress);
      } catch (e) {
        // A proposal the job creator refuses: it signs nothing and gives the job offer up.
        if (isLilyError(e, "CONFLICT") || isLilyError(e, "BAD_SIGNATURE")) await end(a, "failed", e, true);
        throw e;
      }
      return undefined;
    case "post-signatures":
      for (const s of step.deals) await postSignature(ctx, s);
      return undefined;
    case "open":
      a.memory.openTried = true;
      await openSigned(a, step.deals).catch((e: unknown) => {
        // A chain that did not answer: try again next pass. Any refusal (a provider's signature or
        // escrow the chain will not take): leave it to the providers; unopened, the deal lapses at openBy.
        if (isLilyError(e, "UNREACHABLE")) a.memory.openTried = false;
        else if (!isLilyError(e)) throw e;
      });
      return undefined;
    case "lapse":
      for (const s of step.lapsedDeals) progress({ stage: "lapsed", dealId: s });
      entry.lapsed = [...(entry.lapsed ?? []), ...step.lapsedDeals];
      delete entry.dealId;
      delete entry.deal;
      delete entry.replicas;
      entry.stage = "submitted";
      entry.error = `deal ${step.why}`;
      ctx.journal.put(entry);
      a.memory.openTried = false;
      return undefined;
    case "claim-timeout":
      for (const deal of step.deals) {
        if (onTrustDeals(ctx.chain.addresses, deal)) {
          // Skipped items (already timed out by someone else, clock not past yet) are left to the next pass's read.
          const dealId = dealIdOf(ctx, deal);
          const done = await timeOutRouted(ctx, { dealId, deal, trustNonce: entry.trustNonce }, a.memory.routed).catch(unlessSettledElsewhere);
          if (done) progress({ stage: "timed-out", dealId });
          continue;
        }
        await claimTimeout(ctx.chain, { deal }).then((r) => progress({ stage: "timed-out", dealId: r.dealId }), unlessSettledElsewhere);
      }
      return undefined;
    case "claim-mediation-timeout":
      for (const deal of step.deals) await claimMediationTimeout(ctx.chain, { deal }).catch(unlessSettledElsewhere);
      return undefined;
    case "settle-group":
      await settleReplicas(ctx.chain, { deals: step.deals }).catch(unlessSettledElsewhere);
      return undefined;
    case "deliver": {
      const outDir = a.outDir ?? join(process.cwd(), "lily-results", step.delivery.dealId.slice(2, 14));
      return deliverResult(ctx, entry, { ...step.delivery, outDir }, progress);
    }
    case "give-up": {
      await end(a, "no-match", noMatch(step.rejections, { reason: step.reason }), true);
      throw noMatch(step.rejections, { reason: step.reason });
    }
    case "end":
      await end(a, step.stage, step.error, false);
      throw step.error;
  }
}

/** Open the signed deal (or the whole group) ourselves: every signature is there and no provider did. */
async function openSigned(a: ApplyContext, deals: Extract<Step, { do: "open" }>["deals"]): Promise<void> {
  // A routed trust deal is one deal (trust never replicates), opened on LilyTrustDeals.
  if (a.k === 1 && onTrustDeals(a.ctx.chain.addresses, deals[0]!.deal)) return openRouted(a.ctx, { ...deals[0]!, trustNonce: a.entry.trustNonce });
  const withOurs = await Promise.all(
    deals.map(async (d) => ({ ...d, jobCreatorSig: await a.ctx.signDeal({ dealId: dealIdOf(a.ctx, d.deal), deal: d.deal, trustNonce: undefined }) })),
  );
  if (a.k === 1) await openDeal(a.ctx.chain, withOurs[0]!);
  else await openReplicas(a.ctx.chain, { replicas: withOurs });
}

/** Record how the job ended; when nothing can be locked any more, withdraw the job offer too. */
async function end(a: ApplyContext, stage: JobEntry["stage"], error: LilyError, cancel: boolean): Promise<void> {
  a.entry.stage = stage;
  a.entry.error = error.message;
  a.ctx.journal.put(a.entry);
  if (!cancel) return;
  // Best effort: the offer also expires on its own, and a solver that is down holds nothing.
  await cancelJobOffer(a.ctx, a.entry.jobOfferId).then(
    () => a.progress({ stage: "cancelled", jobOfferId: a.entry.jobOfferId, reason: error.message }),
    () => undefined,
  );
}
