// The wallet a session token belongs to, or UNAUTHORIZED: malformed, unknown, signed out or expired.
import type { Address } from "viem";
import type { Database } from "@lily/node-kit";
import { LilyError } from "@lily/protocol";
import { secretPattern, sha256 } from "./secrets.ts";
import { SESSION_PREFIX } from "./session.ts";

const SESSION_SHAPE = secretPattern(SESSION_PREFIX);

export function sessionFor(db: Database, token: string | undefined, now: number = Date.now()): Address {
  // REJECT: no token, or not shaped like one of ours
  if (!token) throw unauthorized("Sign in first: send the session token as `Authorization: Bearer lily_ss_...`.");
  if (!SESSION_SHAPE.test(token)) throw unauthorized("The session token is malformed.");
  // Looked up by digest: timing can reveal at most which digest prefixes exist, never the token.
  const row = db.prepare("SELECT address, expires_at FROM sessions WHERE hash = ?").get(sha256(token)) as { address: string; expires_at: number } | undefined;
  // REJECT: a token we never issued, or one signed out
  if (!row) throw unauthorized("The session is unknown or was signed out: sign in again.");
  // REJECT: an expired session
  if (Number(row.expires_at) <= now) throw unauthorized("The session has expired: sign in again.");
  return row.address as Address;
}

function unauthorized(message: string): LilyError {
  return new LilyError({ code: "UNAUTHORIZED", field: "authorization", message });
}
