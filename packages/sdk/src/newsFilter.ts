// Which of the solver's change events bring the job creator news. It signs a proposal only once
// its provider has (nextStep.ts), so a proposal without the provider's signature is nothing to act
// on; a deal becoming "signed" is the echo of its own signature (it signs last); a job offer
// becoming "matched" comes with the proposal's own event. Each of those used to start a whole pass
// of the wait loop (the solver's records and the chain read again): ~3 of the ~7 events of a job.
// An event is only a hint of what the solver says: skipping one waits for the poll timer, which
// passes all the same, so a wrong hint can delay the job creator but never lose a job.
import type { ChangeHint } from "@lily/api";

/** Whether the event is worth a pass; no hint (a reconnection, an event that does not read as one) always is. */
export function bringsNews(hint: ChangeHint | undefined): boolean {
  if (!hint) return true;
  if (hint.type === "job-offer") return hint.status !== "matched";
  if (hint.status === "proposed") return hint.providerSigned === true;
  return hint.status !== "signed";
}
