// A wallet's API keys, newest first: limits, what each spent, whether it is revoked; never the
// secret or its hash.
import type { Database } from "@lily/node-kit";
import { API_KEY_COLUMNS, apiKeyFromRow, type ApiKey, type ApiKeyRow } from "./apiKey.ts";
import { ownerAddress } from "./owner.ts";

export function listApiKeys(db: Database, owner: string): ApiKey[] {
  const rows = db
    .prepare(`SELECT ${API_KEY_COLUMNS} FROM api_keys WHERE owner = ? ORDER BY created_at DESC, id`)
    .all(ownerAddress(owner)) as unknown as ApiKeyRow[];
  return rows.map(apiKeyFromRow);
}
