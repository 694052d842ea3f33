// Revoke an API key: it stops authenticating at once. Only its owner may revoke it; revoking twice
// is harmless and keeps the first time.
import type { Database } from "@lily/node-kit";
import { LilyError } from "@lily/protocol";
import { ownerAddress } from "./owner.ts";

export function revokeApiKey(db: Database, params: { id: string; owner: string; now?: number }): void {
  const owner = ownerAddress(params.owner);
  const row = db.prepare("SELECT owner FROM api_keys WHERE id = ?").get(params.id) as { owner: string } | undefined;
  // REJECT: a key that does not exist cannot be revoked
  if (!row) throw new LilyError({ code: "NOT_FOUND", field: "id", message: `no API key ${params.id}` });
  // REJECT: a wallet may revoke only its own keys
  if (row.owner !== owner) throw new LilyError({ code: "FORBIDDEN", field: "id", message: `API key ${params.id} belongs to another wallet` });
  db.prepare("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL").run(params.now ?? Date.now(), params.id);
}
