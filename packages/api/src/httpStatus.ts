// How LilyError codes map onto HTTP statuses, in one place for server and client.
import { LilyError, type ErrorCode, type LilyErrorInit } from "@lily/protocol";

const statusOf: Partial<Record<ErrorCode, number>> = {
  INVALID_INPUT: 400,
  BAD_SIGNATURE: 401,
  MODULE_NOT_ALLOWED: 403,
  NOT_FOUND: 404,
  UNKNOWN_MODULE: 404,
  CONFLICT: 409,
  NO_MATCH: 409,
  CID_MISMATCH: 422,
  INSUFFICIENT_DEPOSIT: 402,
  UNREACHABLE: 502,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  RATE_LIMITED: 429,
  QUOTA_EXCEEDED: 429,
};

export function httpStatusFor(code: ErrorCode): number {
  return statusOf[code] ?? 500;
}

/**
 * A refusal whose HTTP status says more than its code's: 405 for a method the path does not take,
 * 413 for a body over the route's limit. On the wire it is an ordinary LilyError; clients branch on
 * the code, which stays INVALID_INPUT.
 */
export class HttpRefusal extends LilyError {
  readonly status: number;
  readonly headers: Record<string, string>;

  constructor(status: number, init: LilyErrorInit, headers: Record<string, string> = {}) {
    super(init);
    this.status = status;
    this.headers = headers;
  }
}
