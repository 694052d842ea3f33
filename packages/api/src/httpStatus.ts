// How LilyError codes map onto HTTP statuses, in one place for server and client.
import type { ErrorCode } from "@lily/protocol";

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
};

export function httpStatusFor(code: ErrorCode): number {
  return statusOf[code] ?? 500;
}
