// Which of the solver's change events bring the provider news. Most events about its deals are
// echoes of its own steps: its signature on a proposal, the openings, runs and results it reported
// itself. Each used to start a whole pass (the solver's lists read again, every followed deal's
// chain state read again): ~6 passes per job where 2 carry news. An event is only a hint (what the
// solver says); skipping one only waits for the poll timer, which passes all the same, so a wrong
// hint can delay the provider but never lose a deal.
import type { ChangeHint } from "@lily/api";
import type { LocalDealStatus } from "./db.ts";

/**
 * Whether the event can be skipped, given the provider's own record of the deal (`local`: its
 * status, undefined when it has none). A deal it never saw is a proposal to check: news. A deal it
 * signed and still waits on is news at every change but its own signature's echo (the job
 * creator's signature, an opening by another party, the solver dropping it). Past that (opened,
 * run, committed, settled, declined, given up) the chain drives every step: an echo.
 */
export function isEcho(hint: ChangeHint | undefined, local: LocalDealStatus | undefined): boolean {
  if (hint?.type !== "deal" || local === undefined) return false;
  if (local === "signed") return hint.status === "proposed";
  return true;
}
