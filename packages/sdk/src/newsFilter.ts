// Which of the solver's change events bring the job creator news. It signs a proposal only once
// its provider has (nextStep.ts), so a proposal without the provider's signature is nothing to act
// on; a deal becoming "signed" is the echo of its own signature (it signs last); a job offer
// becoming "matched" comes with the proposal's own event. Each of those used to start a whole pass
// of the wait loop (the solver's records and the chain read again): ~3 of the ~7 events of a job.
// A deal becoming "opened" or "running" changes nothing the job creator does next (it waits for the
// result, and its own deadlines wake it: nextWake.ts); those passes only report progress, so a
// caller that listens to none (an SDK client running jobs in bulk) is not woken for them: about 2 of
// a job's ~5 passes, each the solver's records and the chain read again.
// A routed trust deal's signed Result is the result's only word (nextStep.ts): the solver seeing
// its settlement on chain, before the provider's signed Result comes, changes nothing the job
// creator does (it waits for that Result, which comes with an event of its own, or for the
// Result's grace past the deadline, which it wakes for anyway). About half the jobs at load saw
// the settlement first, each a pass that read the chain and the deal again.
// An event is only a hint of what the solver says: skipping one waits for the poll timer, which
// passes all the same, so a wrong hint can delay the job creator but never lose a job.
import type { ChangeHint } from "@lily/api";

/** Deal statuses that only progress reports are made of. */
const PROGRESS_ONLY: readonly string[] = ["opened", "running"];

export interface NewsOptions {
  /** Whether the caller hears about openings and runs. */
  progress: boolean;
  /** Whether the job's deals are routed trust deals, whose result is their provider's signed Result alone. */
  signedResultOnly?: boolean;
}

/** Whether the event is worth a pass; no hint (a reconnection, an event that does not read as one) always is. */
export function bringsNews(hint: ChangeHint | undefined, opts: NewsOptions = { progress: true }): boolean {
  if (!hint) return true;
  if (hint.type === "job-offer") return hint.status !== "matched";
  if (hint.status === "proposed") return hint.providerSigned === true;
  if (!opts.progress && PROGRESS_ONLY.includes(hint.status)) return false;
  if (opts.signedResultOnly && hint.status === "committed" && hint.resulted === false) return false;
  return hint.status !== "signed";
}
