// What a wallet's keys have spent and hold right now, in total and key by key.
import type { Address } from "viem";
import type { Database } from "@lily/node-kit";
import { listApiKeys } from "./listApiKeys.ts";
import { ownerAddress } from "./owner.ts";

export interface KeySpending {
  id: string;
  name: string | null;
  prefix: string;
  limitWei: bigint | null;
  spentWei: bigint;
  /** Held by requests in flight. */
  reservedWei: bigint;
  /** Requests settled under the key. */
  requests: number;
  revoked: boolean;
}

export interface Spending {
  owner: Address;
  spentWei: bigint;
  reservedWei: bigint;
  requests: number;
  keys: KeySpending[];
}

export function spendingOf(db: Database, owner: string, now: number = Date.now()): Spending {
  const address = ownerAddress(owner);
  const held = db.prepare("SELECT max_wei FROM spend_reservations WHERE key_id = ? AND expires_at > ?");
  const settled = db.prepare("SELECT COUNT(*) AS n FROM spends WHERE key_id = ?");
  const keys = listApiKeys(db, address).map((k): KeySpending => {
    const reservedWei = (held.all(k.id, now) as { max_wei: string }[]).reduce((sum, r) => sum + BigInt(r.max_wei), 0n);
    const { n } = settled.get(k.id) as { n: number };
    return {
      id: k.id,
      name: k.name,
      prefix: k.prefix,
      limitWei: k.limitWei,
      spentWei: k.spentWei,
      reservedWei,
      requests: Number(n),
      revoked: k.revokedAt !== null,
    };
  });
  return {
    owner: address,
    spentWei: keys.reduce((sum, k) => sum + k.spentWei, 0n),
    reservedWei: keys.reduce((sum, k) => sum + k.reservedWei, 0n),
    requests: keys.reduce((sum, k) => sum + k.requests, 0),
    keys,
  };
}
