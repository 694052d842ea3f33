// A job's status, cost and verification outcome in words, shared by the History table and the job
// page, so both say the same thing about the same job.
import { lily } from "../format.ts";
import type { Outcome, Verdict } from "./jobApi.ts";

const VERDICTS: Record<Verdict, string> = {
  unchecked: "not checked (trust)",
  pending: "pending",
  "window-open": "challenge window open",
  unchallenged: "unchallenged",
  "awaiting-draw": "awaiting the audit draw",
  "not-drawn": "not drawn for audit",
  mediating: "challenged: the mediator is re-running it",
  upheld: "upheld by the mediator",
  slashed: "provider slashed",
  agreed: "replicas agreed",
  "timed-out": "timed out: refunded",
};

const STATUSES: Record<string, string> = {
  open: "running",
  committed: "result committed",
  challenged: "challenged",
  settled: "settled",
  slashed: "slashed",
  timedOut: "timed out",
  submitted: "waiting for a match",
  signed: "matched",
  opened: "running",
  "no-match": "no match",
};

export const statusWords = (status: string): string => STATUSES[status] ?? status;

export const verdictWords = (v: Verdict): string => VERDICTS[v];

/** "1 LILY, paid" / "1 LILY, locked" / "1 LILY, refunded + 4 LILY". */
export function costWords(cost: Outcome["cost"]): string {
  if (cost.price === "0") return "—";
  const price = lily(cost.price);
  if (cost.paid === null) return `${price}, locked`;
  if (cost.received !== "0") return `${price}, refunded + ${lily(cost.received)} from the slashed provider`;
  if (cost.paid === "0") return `${price}, refunded`;
  return cost.paid === cost.price ? `${price}, paid` : `${price}, paid ${lily(cost.paid)} with the mediation fee`;
}

/** A small badge for a verdict: its class carries the colour, its text the meaning (colour is never the only cue). */
export function VerdictBadge({ verdict }: { verdict: Verdict }) {
  return (
    <span className={`verdict verdict-${verdict}`} data-verdict={verdict}>
      {verdictWords(verdict)}
    </span>
  );
}
