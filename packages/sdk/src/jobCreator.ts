// The job creator's client: `submitJob` then `waitForResult`, or `run` for both; `explain` for a
// dry run, `quote` for what a policy costs, `challenge` and `cancel` for what comes after.
import type { Hex } from "viem";
import type { JobOfferRecord } from "@lily/protocol";
import type { JobCreatorOptions, SubmitDefaults } from "./options.ts";
import type { JobJournal } from "./journal.ts";
import { createContext, type JobCreatorContext } from "./context.ts";
import { submitJob, type SubmitJobParams, type SubmittedJob } from "./submitJob.ts";
import { waitForResult, type WaitParams, type JobResult } from "./waitForResult.ts";
import { challengeJob } from "./challengeJob.ts";
import { cancelJobOffer } from "./cancelJobOffer.ts";
import { explainJob, type JobExplanationReport } from "./explainJob.ts";
import { quoteJob, type JobQuote, type QuoteJobParams } from "./quoteJob.ts";

export interface JobCreator {
  context: JobCreatorContext;
  submitJob(p: SubmitJobParams): Promise<SubmittedJob>;
  waitForResult(p: WaitParams): Promise<JobResult>;
  run(p: SubmitJobParams & Omit<WaitParams, "jobOfferId">): Promise<JobResult>;
  /** Dry run: how the solver would match this job now and what would match; signs and posts nothing. */
  explain(p: SubmitJobParams): Promise<JobExplanationReport>;
  challenge(jobOfferId: Hex, reason?: Hex): Promise<{ dealId: Hex; txHash: Hex }>;
  /** Withdraw a job offer from the solver (signed CancelJobOffer); deals already open are the chain's. */
  cancel(jobOfferId: Hex): Promise<JobOfferRecord>;
  /** What a policy would add to the price and how likely it catches a cheat; runs nothing. */
  quote(p: QuoteJobParams): Promise<JobQuote>;
}

export function createJobCreator(opts: JobCreatorOptions, deps: { journal?: JobJournal; submit?: Partial<SubmitDefaults> } = {}): JobCreator {
  const ctx = createContext(opts, deps);
  return {
    context: ctx,
    submitJob: (p) => submitJob(ctx, p),
    waitForResult: (p) => waitForResult(ctx, p),
    explain: (p) => explainJob(ctx, p),
    challenge: (id, reason) => challengeJob(ctx, id, reason),
    cancel: (id) => cancelJobOffer(ctx, id),
    quote: (p) => quoteJob(ctx, p),
    async run(p) {
      const job = await submitJob(ctx, p);
      return waitForResult(ctx, { ...p, jobOfferId: job.jobOfferId, posted: job.posted });
    },
  };
}
