// The gateway's own state in SQLite: the leases it holds and what it has paid under each (the
// latest voucher), every answer with its receipt, the jobs its users ran and the challenges sent for them. Halo's keys and
// sessions live in their own database (halo/). A restarted gateway pays from where it stopped.
import { join } from "node:path";
import { openDatabase, type Database } from "@lily/node-kit";
import { challengeMigration } from "./challenges.ts";

const migrations = [
  `CREATE TABLE leases (
     id TEXT PRIMARY KEY,
     model TEXT NOT NULL,
     provider TEXT NOT NULL,
     endpoint TEXT NOT NULL,
     terms TEXT NOT NULL,            -- the Lease, wire JSON
     expires_at INTEGER NOT NULL,
     state TEXT NOT NULL,            -- open | retired (expired: no new requests) | settled (closed or reclaimed on chain)
     paid TEXT NOT NULL DEFAULT '0', -- the latest voucher's amount
     requests INTEGER NOT NULL DEFAULT 0,
     voucher_signature TEXT,         -- the latest voucher's signature
     voucher_delivered INTEGER NOT NULL DEFAULT 1,
     opened_tx TEXT,
     created_at INTEGER NOT NULL
   );
   CREATE INDEX leases_by_model ON leases (model, state);
   CREATE TABLE answers (
     id TEXT PRIMARY KEY,            -- the OpenAI response id
     owner TEXT NOT NULL,            -- the signed-in address the key belongs to
     key_id TEXT,
     model TEXT NOT NULL,
     lease TEXT NOT NULL,
     seq INTEGER NOT NULL,
     record TEXT NOT NULL,           -- CID of the signed record in the store
     cost TEXT NOT NULL,
     input_tokens INTEGER NOT NULL,
     output_tokens INTEGER NOT NULL,
     finish TEXT NOT NULL,
     audit TEXT,                     -- null | sent | correct | wrong | failed
     created_at INTEGER NOT NULL
   );
   CREATE INDEX answers_by_owner ON answers (owner, created_at);
   CREATE TABLE jobs (
     id TEXT PRIMARY KEY,            -- the job offer's id
     owner TEXT NOT NULL,
     module TEXT NOT NULL,
     created_at INTEGER NOT NULL
   );
   CREATE INDEX jobs_by_owner ON jobs (owner, created_at);`,
  // Challenges sent for users, followed while their window is open (challenges.ts).
  challengeMigration,
];

export function openGatewayDb(home: string): Database {
  return openDatabase(home === ":memory:" ? ":memory:" : join(home, "gateway.sqlite"), migrations);
}
