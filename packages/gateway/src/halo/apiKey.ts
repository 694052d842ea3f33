// An API key as Halo keeps it (never with its secret or the secret's hash) and how a row becomes one.
import type { Address } from "viem";

export interface ApiKey {
  id: string;
  owner: Address;
  name: string | null;
  /** The key's first characters, enough to tell keys apart in a list; not a secret. */
  prefix: string;
  /** Spending limit in token base units; null for none. */
  limitWei: bigint | null;
  /** What answers under this key have been charged, in token base units. */
  spentWei: bigint;
  /** Requests per minute; null for none. */
  rpm: number | null;
  /** Unix milliseconds. */
  createdAt: number;
  revokedAt: number | null;
}

export const API_KEY_PREFIX = "lily_sk_";

/** The columns of `api_keys` that make an ApiKey (everything but the hash). */
export const API_KEY_COLUMNS = "id, owner, name, prefix, limit_wei, spent_wei, rpm, created_at, revoked_at";

export interface ApiKeyRow {
  id: string;
  owner: string;
  name: string | null;
  prefix: string;
  limit_wei: string | null;
  spent_wei: string;
  rpm: number | null;
  created_at: number;
  revoked_at: number | null;
}

export function apiKeyFromRow(r: ApiKeyRow): ApiKey {
  return {
    id: r.id,
    owner: r.owner as Address,
    name: r.name,
    prefix: r.prefix,
    limitWei: r.limit_wei === null ? null : BigInt(r.limit_wei),
    spentWei: BigInt(r.spent_wei),
    rpm: r.rpm,
    createdAt: Number(r.created_at),
    revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
  };
}
