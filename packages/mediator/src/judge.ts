// The decision, as a pure function: given the mediator's own re-run (the reference) and what each
// provider committed (the candidates), was each provider right? No I/O: everything it needs has
// been fetched and verified before, so the same evidence always gives the same ruling.
import { KILLED_EXIT_CODE } from "@lily/executor";
import type { ResultComparator, ResultFiles } from "@lily/verification";
import type { Ruling } from "./dispute.ts";

/** How the mediator's re-run ended, and what it wrote to /outputs. */
export interface RunOutcome {
  exitCode: number;
  /** The sandbox limit that ended it, if any. */
  limit?: "memory" | "timeout";
  files: ResultFiles;
}

/** What a provider stands behind: its committed result, or why it cannot show one. */
export type Candidate =
  | { kind: "result"; exitCode: number; files: ResultFiles }
  // the digest on chain does not lead to a well-formed result for this deal's job
  | { kind: "invalid"; reason: string };

export interface Verdict {
  providerCorrect: boolean;
  detail: string;
}

export function judge(reference: RunOutcome, candidate: Candidate, comparator: ResultComparator): Verdict {
  // REJECT: a provider must be able to show the result whose digest it committed
  if (candidate.kind === "invalid") return { providerCorrect: false, detail: candidate.reason };
  if (reference.limit === "timeout") {
    // The re-run had several times the module's time and still did not finish: no honest run
    // produced a finished result. The provider is right only if it reported the same.
    const agrees = candidate.exitCode === KILLED_EXIT_CODE;
    return {
      providerCorrect: agrees,
      detail: agrees ? "both runs hit the time limit" : `the re-run did not finish in time, yet the provider reported exit code ${candidate.exitCode}`,
    };
  }
  // REJECT: the same module on the same inputs in the same sandbox exits the same way
  if (candidate.exitCode !== reference.exitCode) {
    return { providerCorrect: false, detail: `exit code ${candidate.exitCode}, the re-run exited ${reference.exitCode}` };
  }
  // REJECT: the outputs must match the re-run's by the module's own comparator
  const c = comparator.compare(reference.files, candidate.files);
  return { providerCorrect: c.equal, detail: `${comparator.name}: ${c.detail}` };
}

/** One verdict per deal of the dispute (one deal, or each replica), as the ruling sent on chain. */
export function ruleOn(reference: RunOutcome, candidates: Candidate[], comparator: ResultComparator): Ruling {
  const verdicts = candidates.map((c) => judge(reference, c, comparator));
  return { correct: verdicts.map((v) => v.providerCorrect), comparator: comparator.id, details: verdicts.map((v) => v.detail) };
}
