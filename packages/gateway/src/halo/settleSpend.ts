// Settle a request's hold once its answer is paid: charge what the answer actually cost (tokens
// produced, not the most it could have cost) and release the rest. Settling is recorded per
// request, so settling twice charges once, and a hold that expired or was cleared by a restart is
// still charged: the provider was paid, so the key spent it.
import type { Database } from "@lily/node-kit";
import { transaction } from "@lily/node-kit";
import { LilyError } from "@lily/protocol";
import type { SpendReservation } from "./reserveSpend.ts";

/** Returns whether this call charged the key (false when the request was already settled). */
export function settleSpend(db: Database, reservation: SpendReservation, actualWei: bigint, now: number = Date.now()): boolean {
  if (actualWei < 0n) throw new LilyError({ code: "INVALID_INPUT", field: "actualWei", message: "a request's cost cannot be negative" });
  return transaction(db, () => {
    const recorded = db
      .prepare("INSERT INTO spends (reservation, key_id, amount_wei, reserved_wei, at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (reservation) DO NOTHING")
      .run(reservation.id, reservation.keyId, actualWei.toString(), reservation.maxWei.toString(), now);
    db.prepare("DELETE FROM spend_reservations WHERE id = ?").run(reservation.id);
    if (Number(recorded.changes) === 0) return false;
    const key = db.prepare("SELECT spent_wei FROM api_keys WHERE id = ?").get(reservation.keyId) as { spent_wei: string } | undefined;
    if (!key) throw new LilyError({ code: "NOT_FOUND", field: "keyId", message: `no API key ${reservation.keyId}` });
    db.prepare("UPDATE api_keys SET spent_wei = ? WHERE id = ?").run((BigInt(key.spent_wei) + actualWei).toString(), reservation.keyId);
    return true;
  });
}
