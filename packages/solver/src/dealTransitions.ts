// The deal state machine as the solver records it. Money moves only on chain; this keeps the
// solver's record from claiming progress out of order (no `running` before `signed`).
import { LilyError, type DealStatus } from "@lily/protocol";

const next: Record<DealStatus, readonly DealStatus[]> = {
  proposed: ["signed", "rejected"],
  // Straight to running: a provider whose job starts as the deal opens makes one report of both,
  // naming the opening's transaction (solver.ts requires it then, as for "opened").
  signed: ["opened", "running", "rejected"],
  opened: ["running", "committed", "timed-out"],
  running: ["committed", "timed-out"],
  committed: [],
  "timed-out": [],
  rejected: [],
};

/** Deals whose resources the provider still owes, and which hold their job offer. */
export const ACTIVE_DEAL_STATUSES: readonly DealStatus[] = ["proposed", "signed", "opened", "running"];

export function assertTransition(from: DealStatus, to: DealStatus): void {
  // REJECT: a deal moves only along the state machine
  if (!next[from].includes(to)) {
    throw new LilyError({ code: "CONFLICT", field: "status", message: `status: a ${from} deal cannot become ${to}`, details: { from, to } });
  }
}
