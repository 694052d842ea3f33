// The order book's schema in SQLite: resource offers, job offers, exclusions, deals, where the
// scan of chain events stopped, and model offers. Deal terms are written once: triggers refuse any update of them,
// so not even a bug in the solver can alter what the parties signed.

/** The order book's schema, one step per entry, run once each in order. Append; never edit one that shipped. */
export const orderBookMigrations: readonly string[] = [
  `CREATE TABLE resource_offers (
     id TEXT PRIMARY KEY,
     provider TEXT NOT NULL,
     nonce TEXT NOT NULL,
     expires_at INTEGER NOT NULL,
     active INTEGER NOT NULL,
     offer TEXT NOT NULL,
     signature TEXT NOT NULL,
     created_at INTEGER NOT NULL
   );
   CREATE INDEX resource_offers_provider ON resource_offers (provider);
   CREATE TABLE job_offers (
     id TEXT PRIMARY KEY,
     job_creator TEXT NOT NULL,
     expires_at INTEGER NOT NULL,
     status TEXT NOT NULL,
     deal_id TEXT,
     offer TEXT NOT NULL,
     signature TEXT NOT NULL,
     rejections TEXT NOT NULL,
     created_at INTEGER NOT NULL
   );
   CREATE INDEX job_offers_status ON job_offers (status, created_at);
   CREATE TABLE exclusions (
     job_offer_id TEXT NOT NULL REFERENCES job_offers (id),
     provider TEXT NOT NULL,
     reason TEXT NOT NULL,
     PRIMARY KEY (job_offer_id, provider)
   );
   CREATE TABLE deals (
     id TEXT PRIMARY KEY,
     job_offer_id TEXT NOT NULL REFERENCES job_offers (id),
     resource_offer_id TEXT NOT NULL REFERENCES resource_offers (id),
     provider TEXT NOT NULL,
     job_creator TEXT NOT NULL,
     terms TEXT NOT NULL,
     module TEXT NOT NULL,
     inputs TEXT NOT NULL,
     proposed_at INTEGER NOT NULL,
     status TEXT NOT NULL,
     job_creator_signature TEXT,
     provider_signature TEXT,
     result TEXT,
     open_tx TEXT,
     error TEXT,
     updated_at INTEGER NOT NULL
   );
   CREATE INDEX deals_provider ON deals (provider, status);
   CREATE INDEX deals_job_creator ON deals (job_creator, status);
   CREATE INDEX deals_status ON deals (status, proposed_at);
   -- a job offer is held by at most one live deal
   CREATE UNIQUE INDEX deals_one_live_per_job ON deals (job_offer_id) WHERE status NOT IN ('rejected', 'timed-out');
   CREATE TRIGGER deals_terms_immutable
     BEFORE UPDATE OF id, job_offer_id, resource_offer_id, provider, job_creator, terms, module, inputs, proposed_at ON deals
   BEGIN SELECT RAISE(ABORT, 'deal terms are immutable'); END;`,
  // replicate(k): a job offer is held by up to k deals, each with a distinct provider
  `ALTER TABLE job_offers ADD COLUMN deal_ids TEXT NOT NULL DEFAULT '[]';
   UPDATE job_offers SET deal_ids = json_array(deal_id) WHERE deal_id IS NOT NULL;
   ALTER TABLE job_offers DROP COLUMN deal_id;
   DROP INDEX deals_one_live_per_job;
   -- a job offer is held by at most one live deal per provider
   CREATE UNIQUE INDEX deals_one_live_per_job_provider ON deals (job_offer_id, provider) WHERE status NOT IN ('rejected', 'timed-out');`,
  // the provider's last accepted signed status report (SignedDealProgress), which orders the next
  `ALTER TABLE deals ADD COLUMN progress TEXT;`,
  // openBy and replica groups: a replica names its group (sorted providers, hashed into its
  // terms); `on_chain` is the last thing the chain showed of the deal (opened, committed,
  // timed-out), which outranks any report; `chain_scan` is where the scan of deal events resumes.
  `ALTER TABLE deals ADD COLUMN replica_group TEXT;
   ALTER TABLE deals ADD COLUMN on_chain TEXT;
   CREATE TRIGGER deals_group_immutable BEFORE UPDATE OF replica_group ON deals
   BEGIN SELECT RAISE(ABORT, 'deal terms are immutable'); END;
   CREATE INDEX deals_on_chain ON deals (on_chain, status);
   CREATE TABLE chain_scan (id INTEGER PRIMARY KEY CHECK (id = 1), last_block INTEGER NOT NULL);`,
  // Anura's model offers: the newest signed offer per (provider, model), kept after it expires so
  // its nonce still orders the next. Prices and nonce are 64 hex digits, so text order is number order.
  `CREATE TABLE model_offers (
     provider TEXT NOT NULL,
     model TEXT NOT NULL,
     id TEXT NOT NULL UNIQUE,
     nonce TEXT NOT NULL,
     expires_at INTEGER NOT NULL,
     output_price TEXT NOT NULL,
     input_price TEXT NOT NULL,
     offer TEXT NOT NULL,
     signature TEXT NOT NULL,
     posted_at INTEGER NOT NULL,
     PRIMARY KEY (provider, model)
   );
   CREATE INDEX model_offers_cheapest ON model_offers (model, output_price, input_price, posted_at, id);`,
  // A pass reads the deals of the job offers it plans (their latest openBy) by job offer.
  `CREATE INDEX deals_job_offer ON deals (job_offer_id);`,
  // Every pass expires the open job offers past their expiry: found by index, not by reading every open one.
  `CREATE INDEX job_offers_open_expiry ON job_offers (status, expires_at);`,
  // A routed trust deal as LilyTrustDeals' batch events name it: its leaf (DealsOpened) and its
  // nonce with its provider (DealsSettled, DealsTimedOut); null for every other deal. Derived from
  // its terms when proposed, so they are as immutable as the terms.
  `ALTER TABLE deals ADD COLUMN trust_leaf TEXT;
   ALTER TABLE deals ADD COLUMN trust_nonce TEXT;
   CREATE INDEX deals_trust_leaf ON deals (trust_leaf) WHERE trust_leaf IS NOT NULL;
   CREATE INDEX deals_trust_nonce ON deals (trust_nonce) WHERE trust_nonce IS NOT NULL;
   CREATE TRIGGER deals_trust_immutable BEFORE UPDATE OF trust_leaf, trust_nonce ON deals
   BEGIN SELECT RAISE(ABORT, 'deal terms are immutable'); END;`,
  // A routed trust deal's nonce is now its provider's pick, posted with its signature: the two
  // columns are set then, once. A deal proposed before this and not yet signed by its provider
  // loses the nonce derived from its id (its provider will pick one); a signed one keeps it, as
  // both signatures are over it.
  `DROP TRIGGER deals_trust_immutable;
   UPDATE deals SET trust_leaf = NULL, trust_nonce = NULL WHERE provider_signature IS NULL;
   CREATE TRIGGER deals_trust_nonce_once BEFORE UPDATE OF trust_leaf, trust_nonce ON deals
   WHEN OLD.trust_nonce IS NOT NULL
   BEGIN SELECT RAISE(ABORT, 'a trust deal keeps the nonce its provider signed'); END;`,
];
