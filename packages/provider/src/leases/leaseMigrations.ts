// The lease book's tables in the provider's SQLite (appended to db.ts's migrations): every lease it
// countersigned, the payer's latest voucher for it, and every answer it gave under it with its
// signed receipt. Amounts are wei as decimal strings (SQLite integers stop at 2^63).
export const leaseMigrations = [
  `CREATE TABLE leases (
     id TEXT PRIMARY KEY,
     terms TEXT NOT NULL,
     payer_signature TEXT NOT NULL,
     provider_signature TEXT NOT NULL,
     state TEXT NOT NULL,
     collateral TEXT NOT NULL DEFAULT 'none',
     owed TEXT NOT NULL DEFAULT '0',
     requests INTEGER NOT NULL DEFAULT 0,
     voucher_amount TEXT NOT NULL DEFAULT '0',
     voucher_requests INTEGER NOT NULL DEFAULT 0,
     voucher_signature TEXT,
     close_tx TEXT,
     note TEXT,
     updated_at INTEGER NOT NULL
   );
   CREATE INDEX leases_state ON leases (state, collateral);
   CREATE TABLE lease_answers (
     lease TEXT NOT NULL REFERENCES leases (id),
     seq INTEGER NOT NULL,
     ticket TEXT NOT NULL,
     request_digest TEXT NOT NULL,
     response TEXT NOT NULL,
     receipt TEXT NOT NULL,
     signature TEXT NOT NULL,
     input_tokens INTEGER NOT NULL,
     output_tokens INTEGER NOT NULL,
     cost TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     PRIMARY KEY (lease, seq),
     UNIQUE (lease, ticket)
   );`,
];
