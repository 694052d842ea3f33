// The job creator's journal (JobJournal, journal.ts) kept in SQLite, so jobs survive a crashed
// client: the CLI keeps it under $LILY_HOME, the gateway in its home.
import { openDatabase } from "@lily/node-kit";
import { JobOffer, Deal, isTrustDeal, legacyTrustNonce, parse, uint64, wireJson } from "@lily/protocol";
import type { JobEntry, JobJournal } from "./journal.ts";

const migrations = [
  `CREATE TABLE jobs (
     job_offer_id TEXT PRIMARY KEY,
     entry TEXT NOT NULL,
     created_at INTEGER NOT NULL
   )`,
];

function revive(json: string): JobEntry {
  const raw = JSON.parse(json) as JobEntry;
  return {
    ...raw,
    offer: parse(JobOffer, raw.offer, "journal.offer"),
    ...(raw.deal && { deal: parse(Deal, raw.deal, "journal.deal") }),
    ...storedTrustNonce(raw),
    ...(raw.replicas && { replicas: raw.replicas.map((r) => ({ dealId: r.dealId, deal: parse(Deal, r.deal, "journal.replicas.deal") })) }),
  };
}

/**
 * The routed deal's nonce as journaled. An entry journaled before providers picked nonces (11-28)
 * has none: its trust deal was signed under legacyTrustNonce, which it gets back, so a job in flight
 * across the upgrade still finds its deal on chain (rather than reading it as never opened).
 */
function storedTrustNonce(raw: JobEntry): { trustNonce?: bigint } {
  if (raw.trustNonce !== undefined) return { trustNonce: parse(uint64, raw.trustNonce, "journal.trustNonce") };
  return raw.dealId && raw.deal && isTrustDeal(raw.deal) && !raw.replicas ? { trustNonce: legacyTrustNonce(raw.dealId) } : {};
}

export function sqliteJournal(path: string): JobJournal & { close(): void } {
  const db = openDatabase(path, migrations);
  return {
    get(id) {
      const row = db.prepare("SELECT entry FROM jobs WHERE job_offer_id = ?").get(id.toLowerCase()) as { entry: string } | undefined;
      return row && revive(row.entry);
    },
    put(e) {
      db.prepare("INSERT INTO jobs (job_offer_id, entry, created_at) VALUES (?, ?, ?) ON CONFLICT(job_offer_id) DO UPDATE SET entry = excluded.entry").run(
        e.jobOfferId.toLowerCase(),
        wireJson(e),
        e.createdAt,
      );
    },
    list() {
      return (db.prepare("SELECT entry FROM jobs ORDER BY created_at DESC").all() as { entry: string }[]).map((r) => revive(r.entry));
    },
    close: () => db.close(),
  };
}
