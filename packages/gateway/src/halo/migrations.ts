// Halo's tables, in their own SQLite file beside the gateway's (halo.sqlite): API keys (only a
// sha-256 of each secret), the spending held and charged under each key, sign-in nonces and
// sessions (only a sha-256 of each token). Amounts are decimal TEXT because token base units pass
// SQLite's 64-bit integers; times are Unix milliseconds.
import { join } from "node:path";
import { openDatabase, type Database } from "@lily/node-kit";
import { clearReservations } from "./clearReservations.ts";

export const haloMigrations = [
  `CREATE TABLE api_keys (
     id TEXT PRIMARY KEY,
     owner TEXT NOT NULL,              -- checksummed address of the wallet that created it
     name TEXT,
     prefix TEXT NOT NULL,             -- the key's first characters, not secret, for listing
     hash BLOB NOT NULL UNIQUE,        -- sha-256 of the key; the key itself is never stored
     limit_wei TEXT,                   -- null: no spending limit
     spent_wei TEXT NOT NULL DEFAULT '0',
     rpm INTEGER,                      -- null: no rate limit
     created_at INTEGER NOT NULL,
     revoked_at INTEGER
   );
   CREATE INDEX api_keys_by_owner ON api_keys (owner, created_at);
   CREATE INDEX api_keys_by_prefix ON api_keys (prefix);
   CREATE TABLE spend_reservations (
     id TEXT PRIMARY KEY,
     key_id TEXT NOT NULL REFERENCES api_keys (id),
     max_wei TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL       -- after this it no longer holds the key's limit
   );
   CREATE INDEX spend_reservations_by_key ON spend_reservations (key_id);
   CREATE TABLE spends (
     reservation TEXT PRIMARY KEY,     -- one row per settled request: settling twice charges once
     key_id TEXT NOT NULL REFERENCES api_keys (id),
     amount_wei TEXT NOT NULL,
     reserved_wei TEXT NOT NULL,
     at INTEGER NOT NULL
   );
   CREATE INDEX spends_by_key ON spends (key_id, at);
   CREATE TABLE siwe_nonces (
     nonce TEXT PRIMARY KEY,
     expires_at INTEGER NOT NULL
   );
   CREATE TABLE sessions (
     hash BLOB PRIMARY KEY,            -- sha-256 of the session token
     address TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL
   );
   CREATE INDEX sessions_by_expiry ON sessions (expires_at);`,
];

/**
 * Open Halo's database under `home` (":memory:" for none) and clear the spending holds of requests
 * that were in flight when the last process stopped: none of them can still be answered, so none
 * may keep holding its key's limit. One gateway process per home.
 */
export function openHaloDb(home: string): Database {
  const db = openDatabase(home === ":memory:" ? ":memory:" : join(home, "halo.sqlite"), haloMigrations);
  clearReservations(db);
  return db;
}
