// Turn a presented API key into the key it names, or refuse with UNAUTHORIZED. Candidates are found
// by the key's non-secret prefix and their hashes compared in constant time, so response timing
// says nothing about how much of a guessed key was right.
import type { Database } from "@lily/node-kit";
import { LilyError } from "@lily/protocol";
import { API_KEY_COLUMNS, API_KEY_PREFIX, apiKeyFromRow, type ApiKey, type ApiKeyRow } from "./apiKey.ts";
import { PREFIX_LENGTH } from "./createApiKey.ts";
import { sameDigest, secretPattern, sha256 } from "./secrets.ts";

const KEY_SHAPE = secretPattern(API_KEY_PREFIX);

export function authenticateKey(db: Database, presented: string | undefined): ApiKey {
  // REJECT: a request without a key
  if (!presented) throw unauthorized("You didn't provide an API key. Send it as `Authorization: Bearer lily_sk_...`.");
  // REJECT: a key that is not shaped like one of ours
  if (!KEY_SHAPE.test(presented)) throw unauthorized("The API key is malformed: Lily keys are `lily_sk_` followed by 43 characters.");
  const digest = sha256(presented);
  const rows = db.prepare(`SELECT ${API_KEY_COLUMNS}, hash FROM api_keys WHERE prefix = ?`).all(presented.slice(0, PREFIX_LENGTH)) as unknown as (ApiKeyRow & {
    hash: Uint8Array;
  })[];
  let found: (typeof rows)[number] | undefined;
  for (const row of rows) if (sameDigest(row.hash, digest)) found = row;
  // REJECT: a key this gateway never issued
  if (!found) throw unauthorized(`Incorrect API key provided: ${presented.slice(0, PREFIX_LENGTH)}…`);
  const key = apiKeyFromRow(found);
  // REJECT: a revoked key, saying so, so its owner knows to use another
  if (key.revokedAt !== null)
    throw new LilyError({
      code: "UNAUTHORIZED",
      field: "authorization",
      message: `API key ${key.id} (${key.prefix}…) was revoked.`,
      hint: "create a new key with `lily keys create`",
      details: { keyId: key.id, revokedAt: key.revokedAt },
    });
  return key;
}

function unauthorized(message: string): LilyError {
  return new LilyError({ code: "UNAUTHORIZED", field: "authorization", message });
}
