// Hold the most a request may cost against its key's spending limit before anything is paid. The
// check and the hold are one write transaction (BEGIN IMMEDIATE), so requests on one key racing
// from any number of connections or processes can together never hold more than the limit. A hold
// expires (it stops counting) if its request never settles, so a lost request cannot block a key.
import type { Database } from "@lily/node-kit";
import { transaction } from "@lily/node-kit";
import { LilyError } from "@lily/protocol";
import { newId } from "./secrets.ts";

export interface SpendReservation {
  id: string;
  keyId: string;
  maxWei: bigint;
}

/** How long a hold counts against its key if the request never settles. */
export const RESERVATION_TTL_MS = 30 * 60_000;

export function reserveSpend(db: Database, keyId: string, maxCostWei: bigint, now: number = Date.now(), ttlMs: number = RESERVATION_TTL_MS): SpendReservation {
  if (maxCostWei < 0n) throw new LilyError({ code: "INVALID_INPUT", field: "maxCostWei", message: "a request's cost cannot be negative" });
  return transaction(db, () => {
    const key = db.prepare("SELECT limit_wei, spent_wei, revoked_at FROM api_keys WHERE id = ?").get(keyId) as
      | { limit_wei: string | null; spent_wei: string; revoked_at: number | null }
      | undefined;
    if (!key) throw new LilyError({ code: "NOT_FOUND", field: "keyId", message: `no API key ${keyId}` });
    // REJECT: a key revoked after the request was authenticated pays for nothing more
    if (key.revoked_at !== null) throw new LilyError({ code: "UNAUTHORIZED", field: "authorization", message: `API key ${keyId} was revoked.` });
    db.prepare("DELETE FROM spend_reservations WHERE key_id = ? AND expires_at <= ?").run(keyId, now);
    if (key.limit_wei !== null) {
      const limit = BigInt(key.limit_wei);
      const spent = BigInt(key.spent_wei);
      const held = db.prepare("SELECT max_wei FROM spend_reservations WHERE key_id = ?").all(keyId) as { max_wei: string }[];
      const reserved = held.reduce((sum, r) => sum + BigInt(r.max_wei), 0n);
      // REJECT: what is spent, what other requests hold, and this request's most may not pass the limit
      if (spent + reserved + maxCostWei > limit)
        throw new LilyError({
          code: "QUOTA_EXCEEDED",
          field: "authorization",
          message:
            spent + maxCostWei > limit
              ? `This request could cost up to ${maxCostWei} and the key has ${limit - spent < 0n ? 0n : limit - spent} of its ${limit} limit left.`
              : `This request could cost up to ${maxCostWei}; with ${reserved} held by requests in flight, the key's ${limit} limit would be passed. Try again when they finish.`,
          hint: "raise the limit with a new key (`lily keys create --limit`), or ask for fewer max_tokens",
          details: { keyId, limitWei: limit.toString(), spentWei: spent.toString(), reservedWei: reserved.toString(), requestedWei: maxCostWei.toString() },
        });
    }
    const id = newId("hold_");
    db.prepare("INSERT INTO spend_reservations (id, key_id, max_wei, created_at, expires_at) VALUES (?, ?, ?, ?, ?)").run(
      id,
      keyId,
      maxCostWei.toString(),
      now,
      now + ttlMs,
    );
    return { id, keyId, maxWei: maxCostWei };
  });
}
