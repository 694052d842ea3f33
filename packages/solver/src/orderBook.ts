// The order book on SQLite: resource offers, job offers, exclusions and deals. Every piece of
// solver state lives here, so a restarted solver resumes where it stopped. Deal terms are
// written once: a trigger refuses any update of them, so not even a bug in the solver can alter
// what the parties signed. Records are stored in their wire form and re-parsed on the way out.
import type { StatementSync } from "node:sqlite";
import type { Address, Hex } from "viem";
import { DealRecord, JobOfferRecord, ResourceOfferRecord, JobOffer, toWire, type DealStatus } from "@lily/protocol";
import { openDatabase, transaction, type Database } from "@lily/node-kit";
import { ACTIVE_DEAL_STATUSES } from "./dealTransitions.ts";
import { NO_RESOURCES, addResources, resourcesOf, type Resources } from "./matcher/resources.ts";
import type { Snapshot } from "./matcher/match.ts";

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
];

export interface DealFilter {
  provider?: Address;
  jobCreator?: Address;
  status?: DealStatus;
}

export type DealPatch = Partial<Pick<DealRecord, "status" | "jobCreatorSignature" | "providerSignature" | "result" | "openTx" | "error" | "progress">>;

const dealColumns: Record<keyof DealPatch, string> = {
  status: "status",
  jobCreatorSignature: "job_creator_signature",
  providerSignature: "provider_signature",
  result: "result",
  openTx: "open_tx",
  error: "error",
  progress: "progress",
};

type Row = Record<string, string | number | null>;

const json = (v: unknown) => JSON.stringify(toWire(v));
/** A uint64 expiry as a column JS can read back: past 2^53 seconds is as good as never. */
const expiry = (v: bigint) => (v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v));
const active = ACTIVE_DEAL_STATUSES.map((s) => `'${s}'`).join(", ");

export class OrderBook {
  private readonly db: Database;
  private readonly statements = new Map<string, StatementSync>();

  constructor(path: string) {
    this.db = openDatabase(path, [...orderBookMigrations]);
  }

  close(): void {
    this.db.close();
  }

  /** Run `fn` in one transaction: all of its writes land, or none. */
  atomically<T>(fn: () => T): T {
    return transaction(this.db, fn);
  }

  private sql(text: string): StatementSync {
    let s = this.statements.get(text);
    if (!s) this.statements.set(text, (s = this.db.prepare(text)));
    return s;
  }

  // --- resource offers ---

  getResourceOffer(id: Hex): ResourceOfferRecord | undefined {
    const row = this.sql("SELECT * FROM resource_offers WHERE id = ?").get(id) as Row | undefined;
    return row && toResourceOffer(row);
  }

  highestResourceOfferNonce(provider: Address): bigint | undefined {
    const rows = this.sql("SELECT nonce FROM resource_offers WHERE provider = ?").all(provider) as { nonce: string }[];
    return rows.reduce<bigint | undefined>((max, r) => (max === undefined || BigInt(r.nonce) > max ? BigInt(r.nonce) : max), undefined);
  }

  /** Store an offer as its provider's only active one. */
  addResourceOffer(rec: ResourceOfferRecord): void {
    this.sql("UPDATE resource_offers SET active = 0 WHERE provider = ?").run(rec.offer.provider);
    this.sql(
      "INSERT INTO resource_offers (id, provider, nonce, expires_at, active, offer, signature, created_at) VALUES (?, ?, ?, ?, 1, ?, ?, ?)",
    ).run(rec.id, rec.offer.provider, rec.offer.nonce.toString(), expiry(rec.offer.expiresAt), json(rec.offer), rec.signature, rec.createdAt);
  }

  activeResourceOffers(): ResourceOfferRecord[] {
    return (this.sql("SELECT * FROM resource_offers WHERE active = 1 ORDER BY created_at, id").all() as Row[]).map(toResourceOffer);
  }

  deactivateExpiredResourceOffers(now: number): void {
    this.sql("UPDATE resource_offers SET active = 0 WHERE active = 1 AND expires_at <= ?").run(now);
  }

  // --- job offers ---

  getJobOffer(id: Hex): JobOfferRecord | undefined {
    const row = this.sql("SELECT * FROM job_offers WHERE id = ?").get(id) as Row | undefined;
    return row && toJobOffer(row);
  }

  addJobOffer(rec: JobOfferRecord): void {
    this.sql(
      "INSERT INTO job_offers (id, job_creator, expires_at, status, deal_ids, offer, signature, rejections, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    ).run(rec.id, rec.offer.jobCreator, expiry(rec.offer.expiresAt), rec.status, json(rec.dealIds), json(rec.offer), rec.signature,
      json(rec.rejections), rec.createdAt);
  }

  openJobOffers(): JobOfferRecord[] {
    return (this.sql("SELECT * FROM job_offers WHERE status = 'open' ORDER BY created_at, id").all() as Row[]).map(toJobOffer);
  }

  /**
   * Record the outcome of a matching pass for a job offer: matched to `dealIds` (one deal, or k
   * under replicate(k)), or still open with only its rejections updated when there are none.
   * Returns whether anything changed.
   */
  setMatching(id: Hex, rejections: Record<string, string>, dealIds: readonly Hex[] = []): boolean {
    const r = dealIds.length > 0
      ? this.sql("UPDATE job_offers SET status = 'matched', deal_ids = ?, rejections = ? WHERE id = ?").run(json(dealIds), json(rejections), id)
      : this.sql("UPDATE job_offers SET rejections = ?1 WHERE id = ?2 AND rejections != ?1").run(json(rejections), id);
    return r.changes > 0;
  }

  /**
   * Put a job offer back on the book if `dealId` is one of the deals holding it, releasing all of
   * them (a replica group is re-matched whole); returns whether it did.
   */
  reopenJobOffer(id: Hex, dealId: Hex): boolean {
    return this.sql(
      "UPDATE job_offers SET status = 'open', deal_ids = '[]' WHERE id = ? AND EXISTS (SELECT 1 FROM json_each(deal_ids) WHERE value = ?)",
    ).run(id, dealId).changes > 0;
  }

  /** The deals currently holding a job offer (its `dealIds`: one, or a replica group), in that order. */
  dealsOfJobOffer(id: Hex): DealRecord[] {
    return (this.getJobOffer(id)?.dealIds ?? []).map((d) => this.getDeal(d)).filter((d): d is DealRecord => d !== undefined);
  }

  /** Mark open job offers past their expiry as expired; returns their ids. */
  expireJobOffers(now: number): Hex[] {
    const rows = this.sql("UPDATE job_offers SET status = 'expired' WHERE status = 'open' AND expires_at <= ? RETURNING id").all(now) as { id: Hex }[];
    return rows.map((r) => r.id);
  }

  exclude(jobOfferId: Hex, provider: Address, reason: string): void {
    this.sql("INSERT OR REPLACE INTO exclusions (job_offer_id, provider, reason) VALUES (?, ?, ?)").run(jobOfferId, provider, reason);
  }

  // --- deals ---

  getDeal(id: Hex): DealRecord | undefined {
    const row = this.sql("SELECT * FROM deals WHERE id = ?").get(id) as Row | undefined;
    return row && toDeal(row);
  }

  listDeals(filter: DealFilter): DealRecord[] {
    const where: string[] = [];
    const args: string[] = [];
    if (filter.provider) where.push("provider = ?"), args.push(filter.provider);
    if (filter.jobCreator) where.push("job_creator = ?"), args.push(filter.jobCreator);
    if (filter.status) where.push("status = ?"), args.push(filter.status);
    const text = `SELECT * FROM deals ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY proposed_at, id`;
    return (this.sql(text).all(...args) as Row[]).map(toDeal);
  }

  addDeal(rec: DealRecord, proposedAtMs: number): void {
    this.sql(
      `INSERT INTO deals (id, job_offer_id, resource_offer_id, provider, job_creator, terms, module, inputs, proposed_at, status, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(rec.id, rec.jobOfferId, rec.resourceOfferId, rec.deal.provider, rec.deal.jobCreator, json(rec.deal), rec.module, rec.inputs,
      proposedAtMs, rec.status, rec.updatedAt);
  }

  /** Change a deal's progress. Its terms cannot change: there is no column here for them. */
  updateDeal(id: Hex, patch: DealPatch, now = Date.now()): void {
    const keys = (Object.keys(patch) as (keyof DealPatch)[]).filter((k) => patch[k] !== undefined);
    const values = keys.map((k) => (k === "result" || k === "progress" ? json(patch[k]) : (patch[k] as string)));
    const set = [...keys.map((k) => `${dealColumns[k]} = ?`), "updated_at = ?"].join(", ");
    this.sql(`UPDATE deals SET ${set} WHERE id = ?`).run(...values, now, id);
  }

  /** Proposals still waiting for a signature that were made before `ms`. */
  unsignedProposalsBefore(ms: number): DealRecord[] {
    return (this.sql("SELECT * FROM deals WHERE status = 'proposed' AND proposed_at <= ?").all(ms) as Row[]).map(toDeal);
  }

  countDeals(): number {
    return (this.sql("SELECT count(*) AS n FROM deals").get() as { n: number }).n;
  }

  // --- matching ---

  /** What the matcher needs, read at one instant. */
  snapshot(): Snapshot {
    const used = new Map<Address, Resources>();
    const usage = this.sql(`SELECT d.provider, j.offer FROM deals d JOIN job_offers j ON j.id = d.job_offer_id WHERE d.status IN (${active})`).all() as Row[];
    for (const row of usage) {
      const provider = row.provider as Address;
      used.set(provider, addResources(used.get(provider) ?? NO_RESOURCES, resourcesOf(JobOffer.parse(JSON.parse(row.offer as string)))));
    }
    const excluded: Record<Hex, Record<Address, string>> = {};
    const exclusions = this.sql("SELECT e.* FROM exclusions e JOIN job_offers j ON j.id = e.job_offer_id WHERE j.status = 'open'").all() as Row[];
    for (const row of exclusions) (excluded[row.job_offer_id as Hex] ??= {})[row.provider as Address] = row.reason as string;
    const lastDeadline = new Map<Hex, bigint>();
    const earlier = this.sql(
      "SELECT d.job_offer_id, json_extract(d.terms, '$.deadline') AS deadline FROM deals d JOIN job_offers j ON j.id = d.job_offer_id WHERE j.status = 'open'",
    ).all() as Row[];
    for (const row of earlier) {
      const [job, deadline] = [row.job_offer_id as Hex, BigInt(row.deadline as string)];
      if (deadline > (lastDeadline.get(job) ?? -1n)) lastDeadline.set(job, deadline);
    }
    return { jobs: this.openJobOffers(), offers: this.activeResourceOffers(), used, excluded, lastDeadline };
  }
}

/** The non-null columns of a row's optional fields: absent, not `undefined`, in the record. */
function present(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== null));
}

function toResourceOffer(row: Row): ResourceOfferRecord {
  return ResourceOfferRecord.parse({
    id: row.id,
    offer: JSON.parse(row.offer as string),
    signature: row.signature,
    active: row.active === 1,
    createdAt: row.created_at,
  });
}

function toJobOffer(row: Row): JobOfferRecord {
  return JobOfferRecord.parse({
    id: row.id,
    offer: JSON.parse(row.offer as string),
    signature: row.signature,
    status: row.status,
    dealIds: JSON.parse(row.deal_ids as string),
    rejections: JSON.parse(row.rejections as string),
    createdAt: row.created_at,
  });
}

function toDeal(row: Row): DealRecord {
  return DealRecord.parse({
    id: row.id,
    deal: JSON.parse(row.terms as string),
    jobOfferId: row.job_offer_id,
    resourceOfferId: row.resource_offer_id,
    module: row.module,
    inputs: row.inputs,
    status: row.status,
    updatedAt: row.updated_at,
    ...present({
      jobCreatorSignature: row.job_creator_signature,
      providerSignature: row.provider_signature,
      result: row.result === null ? null : JSON.parse(row.result as string),
      openTx: row.open_tx,
      error: row.error,
      progress: row.progress === null ? null : JSON.parse(row.progress as string),
    }),
  });
}
