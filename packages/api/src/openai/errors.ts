// Errors in OpenAI's shape: `{ error: { message, type, param, code } }` with OpenAI's status codes,
// from Lily's typed errors. `param` is the offending field, so a client sees which one was wrong.
import type http from "node:http";
import { LilyError, type ErrorCode } from "@lily/protocol";
import { HttpRefusal, httpStatusFor } from "../httpStatus.ts";

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** OpenAI's error `type` for each status it uses. */
function typeFor(status: number, code: ErrorCode): string {
  if (code === "QUOTA_EXCEEDED") return "insufficient_quota";
  if (status === 400 || status === 404 || status === 405 || status === 409 || status === 413) return "invalid_request_error";
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 429) return "rate_limit_error";
  return "api_error";
}

/** The status and body OpenAI would send for this error; any non-Lily error is a 500. */
export function openAIError(err: unknown): { status: number; body: OpenAIErrorBody; headers: Record<string, string> } {
  const e = err instanceof LilyError ? err : new LilyError({ code: "INTERNAL", message: err instanceof Error ? err.message : String(err) });
  const status = e instanceof HttpRefusal ? e.status : httpStatusFor(e.code);
  const headers: Record<string, string> = e instanceof HttpRefusal ? { ...e.headers } : {};
  const retry = e.details.retryAfterSeconds;
  if (typeof retry === "number") headers["retry-after"] = String(Math.max(1, Math.ceil(retry)));
  const param = e.field ? e.field.replace(/^body\./, "") : null;
  return { status, headers, body: { error: { message: e.message, type: typeFor(status, e.code), param, code: openAICode(e) } } };
}

function openAICode(e: LilyError): string | null {
  if (e.code === "UNKNOWN_MODULE") return "model_not_found";
  if (e.code === "UNAUTHORIZED") return "invalid_api_key";
  if (e.code === "RATE_LIMITED") return "rate_limit_exceeded";
  if (e.code === "QUOTA_EXCEEDED") return "insufficient_quota";
  if (e.details.contextLengthExceeded) return "context_length_exceeded";
  return e.code.toLowerCase();
}

/** Send an error in OpenAI's shape (headers must not have been sent). */
export function sendOpenAIError(res: http.ServerResponse, err: unknown): void {
  const { status, body, headers } = openAIError(err);
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}
