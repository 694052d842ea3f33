// What every verification policy provides off chain. A policy is one of these objects plus one
// library in the contracts; nothing in execution knows which policies exist.
import { LilyError, type PolicyId, type PolicyName } from "@lily/protocol";

/** The deal terms a policy's safety rule and quote depend on, in token base units. */
export interface PolicyTerms {
  /** What the job creator pays the provider for one job (one deal). */
  price: bigint;
  /** What the provider stakes per deal, slashed if it is proven wrong. */
  collateral: bigint;
  /** Paid to the mediator by whoever a mediation proves wrong. */
  mediationFee: bigint;
  /** The policy's `policyParam`, as carried in the signed deal. */
  param: bigint;
}

export interface QuoteParams extends PolicyTerms {
  /** n: how many jobs the catch probability is computed over; at least 1. */
  jobs: number;
  /** optimistic only: the share of results the job creator checks itself (0..1); default 1. */
  checkRate?: number;
}

export interface Quote {
  /** Expected extra tokens per job over `trust`, for an honest job creator and provider. */
  extraCost: bigint;
  /** Extra tokens the job creator has locked while the job runs (returned unless spent). */
  lockedExtra: bigint;
  /** That a provider who cheats on every job is caught at least once within `jobs` jobs. */
  catchProbability: number;
  /** That one cheated job is caught. */
  perJobCatch: number;
  /** What the numbers assume, in words, for the person deciding. */
  notes: string[];
}

export interface PolicyStrategy {
  readonly name: PolicyName;
  /** The number the signed deal and the contracts carry. */
  readonly id: PolicyId;
  /** Whether a deal under this policy needs at least one mediator both parties accept. */
  readonly needsMediators: boolean;
  /** The parameter used when the user names the policy alone (`--policy audit`). */
  readonly defaultParam: bigint;
  /**
   * The policyParam from the text after the colon (`"90s"` for `optimistic:90s`; `""` when there
   * is none). Throws INVALID_INPUT naming `--policy` when the text is malformed or out of range.
   */
  parse(arg: string): bigint;
  /** The text `parse` reads back to `param`, e.g. `optimistic:90s`. */
  format(param: bigint): string;
  /** One human line, e.g. "re-run by a mediator with probability 10%". */
  describe(param: bigint): string;
  /** How many deals (providers) one job needs: k for replicate, else 1. */
  dealsPerJob(param: bigint): number;
  /** The contract's safety rule for these terms: undefined when safe, else the reason it is not. */
  check(terms: PolicyTerms): string | undefined;
  quote(params: QuoteParams): Quote;
}

/** The error every policy parser throws: INVALID_INPUT on the `--policy` flag. */
export function badPolicy(message: string, hint?: string): LilyError {
  return new LilyError({ code: "INVALID_INPUT", field: "--policy", message: `--policy: ${message}`, ...(hint && { hint }) });
}

/** 1 - (1 - q)^n, accurate for small q and large n. */
export function caughtWithin(perJob: number, jobs: number): number {
  if (perJob <= 0) return 0;
  if (perJob >= 1) return 1;
  return -Math.expm1(jobs * Math.log1p(-perJob));
}

/** Reject a job count that is not a positive integer (a programming error, not user text). */
export function checkJobs(jobs: number): void {
  if (!Number.isSafeInteger(jobs) || jobs < 1) {
    throw new LilyError({ code: "INVALID_INPUT", field: "jobs", message: `jobs: must be a positive integer, got ${jobs}` });
  }
}
