// What a job creator's client needs to know, and the defaults for what it may leave out.
import type { NetworkEndpoints } from "@lily/protocol";
import type { Address, LocalAccount } from "viem";

export interface JobCreatorOptions extends NetworkEndpoints {
  account: LocalAccount;
  /** Mediators this job creator accepts by default (e.g. the network's). */
  mediators?: Address[];
  /**
   * Every solver it posts job offers to and reads proposals from (default: `solverUrl` alone).
   * It still signs at most one deal per job offer that can still open, whoever proposed it.
   */
  solverUrls?: string[];
}

export interface SubmitDefaults {
  /** How long a job offer stays open on the solver. */
  offerTtlSeconds: number;
  /** How long to wait for a match before giving up with NO_MATCH. Nothing is locked before a match. */
  matchTimeoutMs: number;
  /** Extra seconds allowed past the deal deadline before claiming a timeout, for block-time skew. */
  deadlineGraceSeconds: number;
  /**
   * How often state is re-read when no event arrives while the solver's change subscription is
   * down (or not open yet), and while the job waits for what only the chain tells.
   */
  pollMs: number;
  /**
   * How often state is re-read while the subscription is open: events and the deadlines the job
   * creator acts on wake it sooner, so this only bounds what a missed event costs.
   */
  fallbackPollMs: number;
  /** The latest openBy the job creator signs, in seconds from now: how long it holds itself to a signed deal. */
  maxOpenDelaySeconds: number;
  /** How long the providers have to open a fully signed deal (or replica group) before the job creator opens it itself. */
  openGraceMs: number;
  /**
   * How long the chain (or, once deals are signed, the solver) may go unanswered before waiting
   * ends with UNREACHABLE. The job stays in the journal; waiting on it again resumes it.
   */
  peerTimeoutMs: number;
}

export const defaultSubmit: SubmitDefaults = {
  offerTtlSeconds: 600,
  matchTimeoutMs: 20_000,
  deadlineGraceSeconds: 2,
  pollMs: 500,
  fallbackPollMs: 10_000,
  maxOpenDelaySeconds: 600,
  openGraceMs: 15_000,
  peerTimeoutMs: 120_000,
};
