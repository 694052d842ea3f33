// A fresh sign-in nonce: random, stored until it is used once or expires. Expired nonces are
// dropped as new ones are issued, and the number waiting is capped, so asking for nonces in a loop
// cannot grow the database without end.
import { randomBytes } from "node:crypto";
import type { Database } from "@lily/node-kit";
import { LilyError } from "@lily/protocol";
import { NONCE_TTL_MS } from "./session.ts";

/** Nonces that may wait for a signature at once. */
export const MAX_OPEN_NONCES = 100_000;

export interface IssuedNonce {
  /** 32 hex characters (EIP-4361 wants at least 8 alphanumerics). */
  nonce: string;
  /** Unix milliseconds. */
  expiresAt: number;
}

export function issueNonce(db: Database, now: number = Date.now(), ttlMs: number = NONCE_TTL_MS): IssuedNonce {
  db.prepare("DELETE FROM siwe_nonces WHERE expires_at <= ?").run(now);
  const { n } = db.prepare("SELECT COUNT(*) AS n FROM siwe_nonces").get() as { n: number };
  // REJECT: more nonces waiting than any honest crowd of users would ask for
  if (Number(n) >= MAX_OPEN_NONCES) {
    const oldest = db.prepare("SELECT MIN(expires_at) AS at FROM siwe_nonces").get() as { at: number };
    throw new LilyError({
      code: "RATE_LIMITED",
      message: "Too many sign-ins are waiting; try again shortly.",
      details: { retryAfterSeconds: Math.max(1, Math.ceil((Number(oldest.at) - now) / 1000)) },
    });
  }
  const nonce = randomBytes(16).toString("hex");
  const expiresAt = now + ttlMs;
  db.prepare("INSERT INTO siwe_nonces (nonce, expires_at) VALUES (?, ?)").run(nonce, expiresAt);
  return { nonce, expiresAt };
}
