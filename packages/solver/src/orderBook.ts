// The order book on SQLite: resource offers, job offers, exclusions, deals, and how far the chain
// has been followed. Every piece of solver state lives here, so a restarted solver resumes where
// it stopped. Records are stored in their wire form; what matching reads every sweep (resources
// in use, escrow held) is summed in SQL from bounded columns, never re-parsed record by record.
import type { StatementSync } from "node:sqlite";
import type { Address, Hex } from "viem";
import { toWire, type DealRecord, type DealStatus, type JobOfferRecord, type ResourceOfferRecord } from "@lily/protocol";
import { openDatabase, transaction, type Database } from "@lily/node-kit";
import { orderBookMigrations } from "./book/migrations.ts";
import { OfferCache, toDeal, toJobOffer, toResourceOffer, type Row } from "./book/rows.ts";
import { readUsage, UNOPENED } from "./book/usage.ts";
import type { Snapshot } from "./matcher/match.ts";
import type { ChainFact } from "./chain/dealEvents.ts";

export { orderBookMigrations };

export interface DealFilter {
  provider?: Address;
  jobCreator?: Address;
  status?: DealStatus;
}

export type DealPatch = Partial<Pick<DealRecord, "status" | "jobCreatorSignature" | "providerSignature" | "result" | "openTx" | "error" | "progress">>;

/** A deal and the last fact the chain showed of it (none: never seen opened). */
export interface FollowedDeal {
  deal: DealRecord;
  onChain?: ChainFact;
}

const dealColumns: Record<keyof DealPatch, string> = {
  status: "status",
  jobCreatorSignature: "job_creator_signature",
  providerSignature: "provider_signature",
  result: "result",
  openTx: "open_tx",
  error: "error",
  progress: "progress",
};

const json = (v: unknown) => JSON.stringify(toWire(v));
/** A uint64 expiry as a column JS can read back: past 2^53 seconds is as good as never. */
const expiry = (v: bigint) => (v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v));

export class OrderBook {
  private readonly db: Database;
  private readonly statements = new Map<string, StatementSync>();
  private readonly offers = new OfferCache();

  constructor(path: string) {
    this.db = openDatabase(path, [...orderBookMigrations]);
  }

  close(): void {
    this.db.close();
  }

  /** The open database, for the stores that share its file (model offers: modelOffers/modelOfferBook.ts). */
  get database(): Database {
    return this.db;
  }

  /** Run `fn` in one transaction: all of its writes land, or none. Not reentrant. */
  atomically<T>(fn: () => T): T {
    return transaction(this.db, fn);
  }

  private sql(text: string): StatementSync {
    let s = this.statements.get(text);
    if (!s) {
      s = this.db.prepare(text);
      this.statements.set(text, s);
    }
    return s;
  }

  // --- resource offers ---

  getResourceOffer(id: Hex): ResourceOfferRecord | undefined {
    const row = this.sql("SELECT * FROM resource_offers WHERE id = ?").get(id) as Row | undefined;
    return row && toResourceOffer(row, this.offers);
  }

  highestResourceOfferNonce(provider: Address): bigint | undefined {
    const rows = this.sql("SELECT nonce FROM resource_offers WHERE provider = ?").all(provider) as { nonce: string }[];
    return rows.reduce<bigint | undefined>((max, r) => (max === undefined || BigInt(r.nonce) > max ? BigInt(r.nonce) : max), undefined);
  }

  /**
   * Store an offer. It replaces the provider's active offers that allow any module it allows: a
   * provider may hold several offers at once (one per price, each for other modules; its capacity
   * is counted per provider across all of them), but never two prices for one module.
   */
  addResourceOffer(rec: ResourceOfferRecord): void {
    const rows = this.sql("SELECT * FROM resource_offers WHERE provider = ? AND active = 1").all(rec.offer.provider) as Row[];
    for (const old of rows.map((r) => toResourceOffer(r, this.offers))) {
      if (old.offer.modules.some((m) => rec.offer.modules.includes(m))) this.sql("UPDATE resource_offers SET active = 0 WHERE id = ?").run(old.id);
    }
    this.sql("INSERT INTO resource_offers (id, provider, nonce, expires_at, active, offer, signature, created_at) VALUES (?, ?, ?, ?, 1, ?, ?, ?)").run(
      rec.id,
      rec.offer.provider,
      rec.offer.nonce.toString(),
      expiry(rec.offer.expiresAt),
      json(rec.offer),
      rec.signature,
      rec.createdAt,
    );
  }

  activeResourceOffers(): ResourceOfferRecord[] {
    return (this.sql("SELECT * FROM resource_offers WHERE active = 1 ORDER BY created_at, id").all() as Row[]).map((r) => toResourceOffer(r, this.offers));
  }

  /** Take every offer of `provider` off the book until it posts a new one; returns how many were active. */
  deactivateProvider(provider: Address): number {
    return Number(this.sql("UPDATE resource_offers SET active = 0 WHERE provider = ? AND active = 1").run(provider).changes);
  }

  deactivateExpiredResourceOffers(now: number): void {
    this.sql("UPDATE resource_offers SET active = 0 WHERE active = 1 AND expires_at <= ?").run(now);
  }

  // --- job offers ---

  getJobOffer(id: Hex): JobOfferRecord | undefined {
    const row = this.sql("SELECT * FROM job_offers WHERE id = ?").get(id) as Row | undefined;
    return row && toJobOffer(row, this.offers);
  }

  addJobOffer(rec: JobOfferRecord): void {
    this.sql(
      "INSERT INTO job_offers (id, job_creator, expires_at, status, deal_ids, offer, signature, rejections, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    ).run(
      rec.id,
      rec.offer.jobCreator,
      expiry(rec.offer.expiresAt),
      rec.status,
      json(rec.dealIds),
      json(rec.offer),
      rec.signature,
      json(rec.rejections),
      rec.createdAt,
    );
  }

  openJobOffers(): JobOfferRecord[] {
    return (this.sql("SELECT * FROM job_offers WHERE status = 'open' ORDER BY created_at, id").all() as Row[]).map((r) => toJobOffer(r, this.offers));
  }

  /**
   * Record the outcome of a matching pass for a job offer: matched to `dealIds` (one deal, or k
   * under replicate(k)), or still open with only its rejections updated when there are none.
   * Returns whether anything changed.
   */
  setMatching(id: Hex, rejections: Record<string, string>, dealIds: readonly Hex[] = []): boolean {
    const r =
      dealIds.length > 0
        ? this.sql("UPDATE job_offers SET status = 'matched', deal_ids = ?, rejections = ? WHERE id = ? AND status = 'open'").run(
            json(dealIds),
            json(rejections),
            id,
          )
        : this.sql("UPDATE job_offers SET rejections = ?1 WHERE id = ?2 AND status = 'open' AND rejections != ?1").run(json(rejections), id);
    return r.changes > 0;
  }

  /**
   * Put a matched job offer back on the book if `dealId` is one of the deals holding it, releasing
   * all of them (a replica group is re-matched whole); returns whether it did. A cancelled or
   * abandoned job offer never comes back.
   */
  reopenJobOffer(id: Hex, dealId: Hex): boolean {
    return (
      this.sql(
        "UPDATE job_offers SET status = 'open', deal_ids = '[]' WHERE id = ? AND status = 'matched' AND EXISTS (SELECT 1 FROM json_each(deal_ids) WHERE value = ?)",
      ).run(id, dealId).changes > 0
    );
  }

  /** End a job offer for good (cancelled by its job creator, or abandoned by it) unless it already ended; returns whether it did. */
  endJobOffer(id: Hex, status: Extract<JobOfferRecord["status"], "cancelled" | "abandoned">): boolean {
    return this.sql("UPDATE job_offers SET status = ? WHERE id = ? AND status IN ('open', 'matched')").run(status, id).changes > 0;
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

  /** A deal with what the chain last showed of it. */
  getFollowedDeal(id: Hex): FollowedDeal | undefined {
    const row = this.sql("SELECT * FROM deals WHERE id = ?").get(id) as Row | undefined;
    return row && followed(row);
  }

  listDeals(filter: DealFilter): DealRecord[] {
    const where: string[] = [];
    const args: string[] = [];
    for (const [column, value] of [
      ["provider", filter.provider],
      ["job_creator", filter.jobCreator],
      ["status", filter.status],
    ] as const) {
      if (!value) continue;
      where.push(`${column} = ?`);
      args.push(value);
    }
    const text = `SELECT * FROM deals ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY proposed_at, id`;
    return (this.sql(text).all(...args) as Row[]).map(toDeal);
  }

  addDeal(rec: DealRecord, proposedAtMs: number): void {
    this.sql(
      `INSERT INTO deals (id, job_offer_id, resource_offer_id, provider, job_creator, terms, module, inputs, proposed_at, status, updated_at, replica_group)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      rec.id,
      rec.jobOfferId,
      rec.resourceOfferId,
      rec.deal.provider,
      rec.deal.jobCreator,
      json(rec.deal),
      rec.module,
      rec.inputs,
      proposedAtMs,
      rec.status,
      rec.updatedAt,
      rec.group ? json(rec.group) : null,
    );
  }

  /** Change a deal's progress. Its terms cannot change: there is no column here for them. */
  updateDeal(id: Hex, patch: DealPatch, now = Date.now()): void {
    const keys = (Object.keys(patch) as (keyof DealPatch)[]).filter((k) => patch[k] !== undefined);
    const values = keys.map((k) => (k === "result" || k === "progress" ? json(patch[k]) : (patch[k] as string)));
    const set = [...keys.map((k) => `${dealColumns[k]} = ?`), "updated_at = ?"].join(", ");
    this.sql(`UPDATE deals SET ${set} WHERE id = ?`).run(...values, now, id);
  }

  /** Record what the chain showed of a deal. */
  setOnChain(id: Hex, fact: ChainFact): void {
    this.sql("UPDATE deals SET on_chain = ? WHERE id = ?").run(fact, id);
  }

  /** Whether another deal for the same job offer and provider is live (the book holds one at most). */
  hasOtherLiveDeal(deal: DealRecord): boolean {
    return (
      this.sql("SELECT 1 FROM deals WHERE job_offer_id = ? AND provider = ? AND id != ? AND status NOT IN ('rejected', 'timed-out')").get(
        deal.jobOfferId,
        deal.deal.provider,
        deal.id,
      ) !== undefined
    );
  }

  /** A job offer's deals not yet seen opened on chain that still hold something (proposed or signed, or only reported further). */
  unopenedDealsOf(jobOfferId: Hex): DealRecord[] {
    return (this.sql(`SELECT * FROM deals d WHERE d.job_offer_id = ? AND ${UNOPENED} ORDER BY proposed_at, id`).all(jobOfferId) as Row[]).map(toDeal);
  }

  /**
   * Deals chain time may have ended at `chainNow`: never seen opened, not ended, and past their
   * openBy; or opened with no result and past their deadline. (uint64 columns saturate in SQL,
   * which only makes a far-off time later still.)
   */
  dealsDueBy(chainNow: bigint): FollowedDeal[] {
    const rows = this.sql(
      `SELECT * FROM deals WHERE
         (on_chain IS NULL AND status NOT IN ('rejected', 'timed-out') AND CAST(json_extract(terms, '$.openBy') AS INTEGER) < ?1)
         OR (on_chain = 'opened' AND status != 'timed-out' AND CAST(json_extract(terms, '$.deadline') AS INTEGER) < ?1)`,
    ).all(Number(chainNow)) as Row[];
    return rows.map(followed);
  }

  countDeals(): number {
    return (this.sql("SELECT count(*) AS n FROM deals").get() as { n: number }).n;
  }

  // --- chain ---

  /** The last block whose deal events were applied, or undefined before the first scan. */
  lastScannedBlock(): number | undefined {
    return (this.sql("SELECT last_block FROM chain_scan WHERE id = 1").get() as { last_block: number } | undefined)?.last_block;
  }

  /** Move the scan cursor; call it in the transaction that applies the events scanned. */
  setScannedBlock(block: number): void {
    this.sql("INSERT INTO chain_scan (id, last_block) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET last_block = MAX(last_block, excluded.last_block)").run(
      block,
    );
  }

  // --- matching ---

  /** Whose escrow matching needs: the job creators of open job offers and, if there are any, every provider on the book. */
  matchingParties(): Address[] {
    const rows = this.sql(
      `SELECT job_creator AS a FROM job_offers WHERE status = 'open'
       UNION SELECT provider FROM resource_offers WHERE active = 1 AND EXISTS (SELECT 1 FROM job_offers WHERE status = 'open')`,
    ).all() as { a: Address }[];
    return rows.map((r) => r.a);
  }

  /** What the matcher needs, read at one instant, with the escrow balances read from the chain. */
  /** `now`: unix seconds, the solver's clock (a dropped deal a party signed counts until its openBy). */
  snapshot(escrow: ReadonlyMap<Address, bigint>, now = Math.floor(Date.now() / 1000)): Snapshot {
    return { ...readUsage((text) => this.sql(text), now), jobs: this.openJobOffers(), offers: this.activeResourceOffers(), escrow };
  }
}

function followed(row: Row): FollowedDeal {
  return { deal: toDeal(row), ...(row.on_chain !== null && { onChain: row.on_chain as ChainFact }) };
}
