// submitJob: build the job offer (module resolved, inputs validated and stored), check the
// deposit, ask the solver whether anything could ever match it (fail fast: a job every provider
// refuses for a reason waiting cannot change is neither signed nor posted, only journaled as
// no-match), then sign it and post it. Nothing is locked yet: money moves only when a deal opens.
import type { Hex } from "viem";
import { LilyError, hashRecord, signRecord, type JobOffer, type JobOfferRecord } from "@lily/protocol";
import { escrowBalance } from "@lily/chain";
import type { JobCreatorContext } from "./context.ts";
import { buildJobOffer, insufficientDeposit, jobEscrow, type SubmitJobParams } from "./buildJobOffer.ts";
import { askSolver } from "./explainJob.ts";
import { noMatch } from "./noMatch.ts";
import { untilAnswered } from "./untilAnswered.ts";

export type { SubmitJobParams } from "./buildJobOffer.ts";

export interface SubmittedJob {
  jobOfferId: Hex;
  offer: JobOffer;
  signature: Hex;
  moduleRef: string;
  /** The solver's record of the job offer as it answered the post (pass it to waitForResult as `posted`). */
  posted: JobOfferRecord;
}

export async function submitJob(ctx: JobCreatorContext, p: SubmitJobParams): Promise<SubmittedJob> {
  // A chain node or store away for a moment is a pause, not a failure: nothing is signed yet.
  // The reads that do not depend on each other overlap (each is a round trip on the job's path):
  // the balance with building the offer, the solver's explanation with the balance. Both are
  // reads, so starting one whose answer a refusal makes moot changes nothing.
  // The escrow the job's deals will lock from: LilyTrustDeals' own for a routed trust job.
  const route = jobEscrow(ctx, p.policy);
  const balanceRead = untilAnswered(ctx, () => escrowBalance(ctx.chain, { account: ctx.opts.account.address, escrow: route.escrow }));
  balanceRead.catch(() => {}); // awaited below; a build that fails first must not leave it unhandled
  // A routed deal cannot open before the job offer is even posted: a block read now bounds where
  // the search for its opening starts (routedDeal.ts). Made in the balance's turn, it rides in the
  // same JSON-RPC batch; a node that does not answer leaves it to signing (signProposals.ts).
  const routedFrom = route.trust ? ctx.chain.publicClient.getBlockNumber().catch(() => undefined) : undefined;
  const built = await untilAnswered(ctx, () => buildJobOffer(ctx, p, ctx.store));
  const { offer } = built;
  const explanationRead = untilAnswered(ctx, () => askSolver(ctx, offer, { firstFit: true }));
  explanationRead.catch(() => {}); // awaited below, after the balance check
  const balance = await balanceRead;
  // REJECT: a job offer the job creator cannot pay for would only fail at opening
  if (balance < built.deposit) throw insufficientDeposit(balance, built, route);
  // REJECT: a job offer every provider refuses for a reason waiting cannot change is not posted
  const jobOfferId = hashRecord(ctx.domain, "JobOffer", offer);
  const explanation = await explanationRead;
  // An empty book (no active offer at all, e.g. every provider restarting and re-offering) refuses
  // nothing lasting: the job is posted and waits for the match timeout like any other.
  const emptyBook = Object.keys(explanation.rejections).length === 0 && explanation.candidates.length === 0;
  if (!explanation.matchable && !emptyBook) {
    // Unsigned and unposted; journaled so `lily jobs` still shows what was tried and why it failed.
    // A container module needs a provider with a Docker engine: say so first, the providers' own reasons follow.
    const reason =
      built.manifest.executor.kind === "docker"
        ? `no provider matched the container module ${p.module} (a provider needs a Docker engine to offer one)`
        : undefined;
    const error = noMatch(explanation.rejections, { hints: explanation.hints, ...(reason && { reason }) });
    ctx.journal.put({ jobOfferId, module: p.module, offer, stage: "no-match", error: error.message, createdAt: Date.now() });
    throw error;
  }
  const signature = await signRecord(ctx.opts.account, ctx.domain, "JobOffer", offer);
  const from = await routedFrom;
  ctx.journal.put({
    jobOfferId,
    module: p.module,
    offer,
    signature,
    stage: "submitted",
    createdAt: Date.now(),
    ...(from !== undefined && { trustFromBlock: Number(from) }),
  });
  const record = await untilAnswered(ctx, () => ctx.solver.postJobOffer({ body: { offer, signature } }));
  if (record.id !== jobOfferId) throw new LilyError({ code: "CONFLICT", message: `solver answered job offer id ${record.id}, expected ${jobOfferId}` });
  p.onProgress?.({ stage: "offered", jobOfferId });
  return { jobOfferId, offer, signature, moduleRef: p.module, posted: record };
}
