// Create an API key for a wallet. The key is returned once; Halo keeps only its sha-256 and a short
// non-secret prefix, so neither a database leak nor a listing reveals a usable key.
import * as z from "zod";
import type { Address } from "viem";
import { parse, uint } from "@lily/protocol";
import type { Database } from "@lily/node-kit";
import { API_KEY_PREFIX } from "./apiKey.ts";
import { ownerAddress } from "./owner.ts";
import { newId, newSecret, sha256 } from "./secrets.ts";

export const CreateApiKeyParams = z.object({
  owner: z.string(),
  name: z.string().max(64).optional(),
  /** Spending limit in token base units; absent for none. */
  limitWei: uint.optional(),
  /** Requests per minute; absent for none. */
  rpm: z.number().int().positive().max(1_000_000).optional(),
  /** Unix milliseconds. */
  now: z.number().int().nonnegative(),
});
export type CreateApiKeyParams = z.input<typeof CreateApiKeyParams>;

export interface CreatedApiKey {
  id: string;
  /** The secret: shown to its owner now and never again. */
  key: string;
  prefix: string;
}

/** Characters of the key kept for listing: the `lily_sk_` marker and 6 of its 43 random ones. */
export const PREFIX_LENGTH = API_KEY_PREFIX.length + 6;

export function createApiKey(db: Database, params: CreateApiKeyParams): CreatedApiKey {
  const p = parse(CreateApiKeyParams, params, "key");
  const owner: Address = ownerAddress(p.owner);
  const id = newId("key_");
  const key = newSecret(API_KEY_PREFIX);
  const prefix = key.slice(0, PREFIX_LENGTH);
  db.prepare("INSERT INTO api_keys (id, owner, name, prefix, hash, limit_wei, rpm, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)").run(
    id,
    owner,
    p.name ?? null,
    prefix,
    sha256(key),
    p.limitWei === undefined ? null : p.limitWei.toString(),
    p.rpm ?? null,
    p.now,
  );
  return { id, key, prefix };
}
