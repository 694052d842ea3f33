// explainJob: the dry run. Build the job offer a job would make (inputs hashed, not uploaded), ask
// the solver how it would match it now, and say what would match. Signs nothing, posts nothing,
// locks nothing. submitJob asks the same question before posting, to fail fast.
import type { JobExplanation } from "@lily/api";
import { escrowBalance } from "@lily/chain";
import type { JobOffer } from "@lily/protocol";
import type { JobCreatorContext } from "./context.ts";
import { buildJobOffer, jobEscrow, type SubmitJobParams } from "./buildJobOffer.ts";
import { hashOnly } from "./prepareInputs.ts";
import { whatWouldMatch } from "./matchHints.ts";

export interface JobExplanationReport extends JobExplanation {
  /** The job offer, unsigned, as it would be posted (its nonce and expiry aside). */
  offer: JobOffer;
  /** What would match now, as flags to change; empty when nothing needs changing. */
  hints: string[];
  /** The job creator's free escrow (in the escrow the job's deals lock from) and what the job offer needs of it. */
  deposit: { balance: bigint; needed: bigint };
}

export async function explainJob(ctx: JobCreatorContext, p: SubmitJobParams): Promise<JobExplanationReport> {
  const { onProgress: _quiet, ...quiet } = p; // nothing is stored, so there is no "inputs stored" to report
  const built = await buildJobOffer(ctx, quiet, hashOnly);
  const [explanation, balance] = await Promise.all([
    askSolver(ctx, built.offer),
    escrowBalance(ctx.chain, { account: ctx.opts.account.address, escrow: jobEscrow(ctx, p.policy).escrow }),
  ]);
  return { ...explanation, offer: built.offer, deposit: { balance, needed: built.deposit } };
}

/**
 * The solver's explanation of an unsigned offer, with what would match. `firstFit` (the check before
 * posting): when some provider would take it now, only the solver's pick comes back.
 */
export async function askSolver(ctx: JobCreatorContext, offer: JobOffer, { firstFit = false } = {}): Promise<JobExplanation & { hints: string[] }> {
  const explanation = await ctx.solver.explainJobOffer({ body: { offer, ...(firstFit && { firstFit }) } });
  if (explanation.matchable && explanation.candidates.length > 0) return { ...explanation, hints: [] };
  const { offers } = await ctx.solver.listResourceOffers({});
  const facts = explanation.clearingPrice === undefined ? {} : { clearingPrice: explanation.clearingPrice };
  return {
    ...explanation,
    hints: whatWouldMatch(
      offer,
      facts,
      offers.map((o) => o.offer),
    ),
  };
}
