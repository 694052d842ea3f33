// The decision, as a pure function: given the mediator's own attempt at the job (the reference)
// and what each provider committed (the candidates), was each provider right? No I/O: everything
// it needs has been fetched and verified before, so the same evidence always gives the same
// ruling. When the evidence cannot tell (this mediator cannot fetch inputs the provider may have
// fetched), it says so instead of ruling.
import { Comparator } from "@lily/protocol";
import { JOB_REFUSED_EXIT_CODE, KILLED_EXIT_CODE, failureOutputs, type JobFailure } from "@lily/executor";
import type { ResultComparator, ResultFiles } from "@lily/verification";
import type { Ruling } from "./dispute.ts";

/** How the mediator's re-run ended, and what it wrote to /outputs. */
export interface RunOutcome {
  exitCode: number;
  /** The sandbox limit that ended it, if any. */
  limit?: "memory" | "timeout" | "output";
  files: ResultFiles;
}

/**
 * What the mediator's own attempt gave: a run, or the job creator's fault found before running
 * (`loadJob`), which an honest provider commits as a failure with exactly these bytes.
 */
export type Reference = { kind: "ran"; outcome: RunOutcome } | { kind: "refused"; failure: JobFailure };

/** What a provider stands behind: its committed result, or why it cannot show one. */
export type Candidate =
  | { kind: "result"; exitCode: number; files: ResultFiles }
  // the digest on chain does not lead to a well-formed result for this deal's job
  | { kind: "invalid"; reason: string };

export type Verdict =
  | { kind: "decided"; providerCorrect: boolean; detail: string }
  // no evidence either way: do not rule (a later attempt may find it, or the mediation times out)
  | { kind: "undecided"; reason: string };

const decided = (providerCorrect: boolean, detail: string): Verdict => ({ kind: "decided", providerCorrect, detail });

export function judge(reference: Reference, candidate: Candidate, comparator: ResultComparator): Verdict {
  // REJECT: a provider must be able to show the result whose digest it committed
  if (candidate.kind === "invalid") return decided(false, candidate.reason);
  if (reference.kind === "refused") return judgeRefused(reference.failure, candidate);
  const ran = reference.outcome;
  if (ran.limit === "timeout") {
    // The re-run had several times the module's time and still did not finish: no honest run
    // produced a finished result. The provider is right only if it reported the same.
    const agrees = candidate.exitCode === KILLED_EXIT_CODE;
    return decided(
      agrees,
      agrees ? "both runs hit the time limit" : `the re-run did not finish in time, yet the provider reported exit code ${candidate.exitCode}`,
    );
  }
  // REJECT: the same module on the same inputs in the same sandbox exits the same way
  if (candidate.exitCode !== ran.exitCode) return decided(false, `exit code ${candidate.exitCode}, the re-run exited ${ran.exitCode}`);
  // REJECT: the outputs must match the re-run's by the module's own comparator
  const c = comparator.compare(ran.files, candidate.files);
  return decided(c.equal, `${comparator.name}: ${c.detail}`);
}

/** A job its job creator's inputs kept from running: the provider is right iff it committed that very failure. */
function judgeRefused(failure: JobFailure, candidate: Extract<Candidate, { kind: "result" }>): Verdict {
  // REJECT: the committed failure must be byte for byte the one loadJob gives, whatever the module's comparator
  const same = candidate.exitCode === JOB_REFUSED_EXIT_CODE && sameFiles(failureOutputs(failure), candidate.files);
  if (same) return decided(true, `the same failure: ${failure.code} at ${failure.field}`);
  // Inputs this mediator cannot fetch may be where the provider fetched them: that is no
  // evidence against a provider that ran the job, so it is not a ruling either way.
  if (failure.code === "INPUTS_UNAVAILABLE") {
    return {
      kind: "undecided",
      reason: `this mediator cannot fetch the job's inputs (${failure.message}), and the provider committed exit code ${candidate.exitCode}, not that failure: no evidence either way`,
    };
  }
  // The schema check is deterministic: every honest party finds the same invalid inputs.
  return decided(false, `the inputs are invalid (${failure.message}), yet the provider committed exit code ${candidate.exitCode}, not that failure`);
}

function sameFiles(a: ResultFiles, b: ResultFiles): boolean {
  if (a.size !== b.size) return false;
  for (const [name, bytes] of a) {
    const other = b.get(name);
    if (!other || other.length !== bytes.length || !other.every((x, i) => x === bytes[i])) return false;
  }
  return true;
}

/**
 * One verdict per deal of the dispute (one deal, or each replica), as the ruling sent on chain;
 * or, if any verdict is undecided, no ruling (a group is ruled whole or not at all).
 */
export function ruleOn(
  reference: Reference,
  candidates: Candidate[],
  comparator: ResultComparator,
): { decided: true; ruling: Ruling } | { decided: false; reason: string } {
  const verdicts = candidates.map((c) => judge(reference, c, comparator));
  const undecided = verdicts.find((v) => v.kind === "undecided");
  if (undecided) return { decided: false, reason: undecided.reason };
  const known = verdicts as Extract<Verdict, { kind: "decided" }>[];
  return {
    decided: true,
    ruling: {
      correct: known.map((v) => v.providerCorrect),
      // A committed failure is compared byte for byte, so the exact comparator judged it.
      comparator: reference.kind === "refused" ? Comparator.exact : comparator.id,
      details: known.map((v) => v.detail),
    },
  };
}
