// Typed errors shared by every Lily package. Each carries a stable code (for programs),
// the offending field when there is one (for people), and structured details. The CLI turns
// them into one clear line; nothing matches on message text.

export type ErrorCode =
  | "INVALID_INPUT" // a value failed its schema; `field` names it
  | "BAD_SIGNATURE" // an EIP-712 signature did not recover to the claimed signer
  | "UNKNOWN_MODULE" // name@version or CID not found
  | "CID_MISMATCH" // fetched bytes do not hash to the requested CID
  | "NOT_FOUND" // a record (deal, offer, block) does not exist
  | "CONFLICT" // the request contradicts stored state (e.g. re-signing a deal)
  | "NO_MATCH" // the solver found no provider for a job offer
  | "INSUFFICIENT_DEPOSIT" // escrow balance below what a deal would lock
  | "MODULE_NOT_ALLOWED" // a provider was asked to run a module it does not allow
  | "DEADLINE_PASSED" // the provider missed the deal's deadline
  | "SANDBOX_LIMIT" // a job exceeded its memory or wall-clock limit
  | "EXECUTION_FAILED" // the module ran and failed
  | "CHAIN_REVERT" // a contract call reverted; details carry the custom error
  | "UNREACHABLE" // a peer (solver, store, chain) did not answer
  | "CONFIG" // missing or inconsistent configuration
  | "EXECUTOR_UNAVAILABLE" // the module's executor (e.g. a Docker engine, a GPU) is not available here
  | "IMAGE_MISMATCH" // a container image did not have the digest its manifest names
  | "UNAUTHORIZED" // a missing, malformed, unknown or revoked API key or session
  | "FORBIDDEN" // a signed-in user reached for another user's key or job
  | "RATE_LIMITED" // too many requests; details.retryAfterSeconds says when to try again
  | "QUOTA_EXCEEDED" // an API key's spending limit would be passed
  | "INTERNAL";

export interface LilyErrorInit {
  code: ErrorCode;
  message: string;
  /** The input field, flag or record field that caused the error, e.g. `inputs.message`. */
  field?: string;
  /** A human hint for what to do next. */
  hint?: string;
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class LilyError extends Error {
  readonly code: ErrorCode;
  readonly field?: string;
  readonly hint?: string;
  readonly details: Record<string, unknown>;

  constructor(init: LilyErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "LilyError";
    this.code = init.code;
    this.field = init.field;
    this.hint = init.hint;
    this.details = init.details ?? {};
  }

  /** The wire form, sent by servers and rebuilt by clients. */
  toJSON(): SerializedError {
    return { code: this.code, message: this.message, field: this.field, hint: this.hint, details: this.details };
  }

  static fromJSON(e: SerializedError): LilyError {
    return new LilyError({ code: e.code, message: e.message, field: e.field, hint: e.hint, details: e.details });
  }
}

export interface SerializedError {
  code: ErrorCode;
  message: string;
  field?: string;
  hint?: string;
  details?: Record<string, unknown>;
}

export function isLilyError(e: unknown, code?: ErrorCode): e is LilyError {
  return e instanceof LilyError && (code === undefined || e.code === code);
}
