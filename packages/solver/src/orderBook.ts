// The order book on SQLite: resource offers, job offers, exclusions, deals, and how far the chain
// has been followed. Every piece of solver state lives here, so a restarted solver resumes where
// it stopped. Records are stored in their wire form; what matching reads every sweep (resources
// in use, escrow held) is summed in SQL from bounded columns, never re-parsed record by record.
//
// The active resource offers are also kept in memory, in an `OfferIndex` (matcher/offerIndex.ts)
// the book updates on every write that changes them (add, replace, deactivate, expire), so
// matching never reads or scans the whole book. A transaction that rolls back undoes its changes
// to the index too: it never holds what the database does not.
// Likewise what the deals hold (`usage`): summed in SQL once, then a proposed deal adds its part
// in memory; any other write to a deal, a rollback, or the time a dropped deal stops counting
// sends the next read back to SQL.
import type { StatementSync } from "node:sqlite";
import { isAddressEqual, type Address, type Hex } from "viem";
import { trustLeaf, trustTermsOf } from "@lily/chain";
import { trustDealOf, type DealRecord, type DealStatus, type JobOfferRecord, type ResourceOfferRecord, wireJson } from "@lily/protocol";
import { openDatabase, preparedOnce, transaction, type Database } from "@lily/node-kit";
import { orderBookMigrations } from "./book/migrations.ts";
import { intern, OfferCache, toDeal, toJobOffer, toResourceOffer, type Row } from "./book/rows.ts";
import { readHoldings, readJobState, readUsage, UNOPENED, type Holdings } from "./book/usage.ts";
import { ACTIVE_DEAL_STATUSES } from "./dealTransitions.ts";
import { dealLocks } from "./matcher/locks.ts";
import { backingKey, trustBacked, type BackingKey } from "./matcher/backing.ts";
import { NO_RESOURCES, addResources, resourcesOf } from "./matcher/resources.ts";
import type { Snapshot } from "./matcher/match.ts";
import { OfferIndex } from "./matcher/offerIndex.ts";
import type { ChainFact } from "./chain/dealEvents.ts";

export { orderBookMigrations };

export interface DealFilter {
  provider?: Address;
  jobCreator?: Address;
  /** Any of these statuses. */
  status?: DealStatus | readonly DealStatus[];
  /** Routed trust deals with this leaf (as LilyTrustDeals' DealsOpened names it). */
  trustLeaf?: Hex;
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

export interface OrderBookOptions {
  /**
   * The network routes trust deals to LilyTrustDeals: their escrow holds are kept apart from the
   * LilyDeals ones (matcher/backing.ts) and each is indexed by its leaf and nonce there, so the
   * contract's batch events find it. Fixed for a book's life: it is the network's.
   */
  trustDeals?: boolean;
}

const json = (v: unknown) => wireJson(v);
/** A uint64 expiry as a column JS can read back: past 2^53 seconds is as good as never. */
const expiry = (v: bigint) => (v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v));

export class OrderBook {
  private readonly db: Database;
  /** Each SQL text's statement, prepared once. */
  private readonly sql: (text: string) => StatementSync;
  private readonly offers = new OfferCache();
  /** The active resource offers, indexed for matching; undefined until first read, or after a rollback. */
  private index: OfferIndex | undefined;
  /** What the deals hold, as last summed (`from`: the second it was read at); undefined: read again. */
  private holdings: (Holdings & { from: number }) | undefined;
  /** While a transaction runs: how to undo what it did to the index, should it roll back. */
  private undo: (() => void)[] | undefined;
  /** Bumped by every write that could let a waiting job match (see `generation`). */
  private changes = 0;

  /** Whether trust deals are routed to LilyTrustDeals (the solver's network names it): see `OrderBookOptions`. */
  private readonly trustEscrow: boolean;

  constructor(path: string, { trustDeals = false }: OrderBookOptions = {}) {
    this.db = openDatabase(path, [...orderBookMigrations]);
    this.sql = preparedOnce(this.db);
    this.trustEscrow = trustDeals;
  }

  /** Whether trust deals are routed to LilyTrustDeals, backed by its escrow (OrderBookOptions). */
  get trustDeals(): boolean {
    return this.trustEscrow;
  }

  close(): void {
    this.db.close();
  }

  /** The open database, for the stores that share its file (model offers: modelOffers/modelOfferBook.ts). */
  get database(): Database {
    return this.db;
  }

  /**
   * A count of the writes that could let a job the last whole matching pass left waiting match
   * now: offers added or retired, deals changed (capacity or escrow freed), job offers re-opened
   * or ended. Writes that only hold more (a proposed deal, rejections, an exclusion, an expiry)
   * do not count. A rolled-back write still counts: a pass too many, never one too few.
   */
  get generation(): number {
    return this.changes;
  }

  /** Unix seconds: the last second the deals' holdings last read stand without a write (time frees a dropped deal a party signed); 0 if not read. */
  holdingsUntil(): number {
    return this.holdings?.until ?? 0;
  }

  /** Run `fn` in one transaction: all of its writes land, or none. Not reentrant. */
  atomically<T>(fn: () => T): T {
    const undo: (() => void)[] = [];
    this.undo = undo;
    try {
      return transaction(this.db, fn);
    } catch (e) {
      for (const step of undo.reverse()) step(); // the index as the rolled-back database has it
      this.holdings = undefined;
      throw e;
    } finally {
      this.undo = undefined;
    }
  }

  /**
   * The active resource offers as matching reads them, kept in step with every write here. The
   * index's usage (what providers owe) is matching's to set: `planIndexed` syncs it each pass.
   */
  offerIndex(): OfferIndex {
    if (!this.index) {
      // Row by row: a book of 100k offers is never held as rows and records at once.
      const index = new OfferIndex();
      // Only the columns a record needs, and no re-validation (book/rows.ts): a restart's reload of 100k offers.
      for (const row of this.sql("SELECT id, offer, signature, active, created_at FROM resource_offers WHERE active = 1 ORDER BY created_at, id").iterate())
        index.add(toResourceOffer(row as Row, this.offers));
      this.index = index;
      // Built from a transaction's own writes: if it rolls back, so does the index, whole.
      this.undo?.push(() => {
        if (this.index === index) this.index = undefined;
      });
    }
    return this.index;
  }

  /** An offer left the book: out of the index, and its parsed form is no longer worth keeping. */
  private retired(ids: readonly Hex[]): void {
    // Every retirement counts as a change for the sweep (`generation`), whichever write retired it.
    if (ids.length > 0) this.changes++;
    const index = this.index;
    for (const id of ids) {
      const rec = index?.get(id);
      if (index && rec && index.remove(id)) this.undo?.push(() => index.add(rec));
      this.offers.forget(id);
    }
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
    this.changes++;
    const rows = this.sql("SELECT * FROM resource_offers WHERE provider = ? AND active = 1").all(rec.offer.provider) as Row[];
    for (const old of rows.map((r) => toResourceOffer(r, this.offers))) {
      if (old.offer.modules.some((m) => rec.offer.modules.includes(m))) {
        this.sql("UPDATE resource_offers SET active = 0 WHERE id = ?").run(old.id);
        this.retired([old.id]);
      }
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
    const index = this.index;
    if (index) {
      // The index keeps one copy of the strings many offers repeat, as a reload does (book/rows.ts).
      index.add({
        ...rec,
        offer: { ...rec.offer, modules: rec.offer.modules.map(intern), mediators: rec.offer.mediators.map((m) => intern(m) as typeof m) },
        active: true,
      });
      this.undo?.push(() => index.remove(rec.id));
    }
  }

  activeResourceOffers(): ResourceOfferRecord[] {
    return (this.sql("SELECT * FROM resource_offers WHERE active = 1 ORDER BY created_at, id").all() as Row[]).map((r) => toResourceOffer(r, this.offers));
  }

  /** Take every offer of `provider` off the book until it posts a new one; returns how many were active. */
  deactivateProvider(provider: Address): number {
    const rows = this.sql("UPDATE resource_offers SET active = 0 WHERE provider = ? AND active = 1 RETURNING id").all(provider) as { id: Hex }[];
    this.retired(rows.map((r) => r.id));
    return rows.length;
  }

  /** Retire the active offers past their expiry; returns their ids. */
  deactivateExpiredResourceOffers(now: number): Hex[] {
    const rows = this.sql("UPDATE resource_offers SET active = 0 WHERE active = 1 AND expires_at <= ? RETURNING id").all(now) as { id: Hex }[];
    const ids = rows.map((r) => r.id);
    this.retired(ids);
    return ids;
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
    // The pass that follows reads it back: no need to parse what was just validated.
    this.offers.put(rec.id, rec.offer);
    this.undo?.push(() => this.offers.forget(rec.id));
  }

  openJobOffers(): JobOfferRecord[] {
    return (this.sql("SELECT * FROM job_offers WHERE status = 'open' ORDER BY created_at, id").all() as Row[]).map((r) => toJobOffer(r, this.offers));
  }

  /** The job creators of the open job offers, each once (from its column: no offer parsed). */
  /** The escrow keys (matcher/backing.ts) of the open job offers' creators: their address, or its trust key for a routed trust job. */
  openJobCreators(): BackingKey[] {
    if (!this.trustEscrow)
      return (this.sql("SELECT DISTINCT job_creator FROM job_offers WHERE status = 'open'").all() as { job_creator: Address }[]).map((r) => r.job_creator);
    const rows = this.sql("SELECT DISTINCT job_creator, json_extract(offer, '$.policy') AS policy FROM job_offers WHERE status = 'open'").all() as {
      job_creator: Address;
      policy: number;
    }[];
    return [...new Set(rows.map((r) => backingKey(r.job_creator, trustBacked(true, r))))];
  }

  hasOpenJobOffers(): boolean {
    return this.sql("SELECT 1 FROM job_offers WHERE status = 'open' LIMIT 1").get() !== undefined;
  }

  /** Those of `ids` that are open job offers, oldest first (the order a pass over the whole book takes them in). */
  openJobOffersAmong(ids: Iterable<Hex>): JobOfferRecord[] {
    const open: JobOfferRecord[] = [];
    for (const id of new Set(ids)) {
      const row = this.sql("SELECT * FROM job_offers WHERE id = ? AND status = 'open'").get(id) as Row | undefined;
      if (row) open.push(toJobOffer(row, this.offers));
    }
    return open.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
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
    const reopened =
      this.sql(
        "UPDATE job_offers SET status = 'open', deal_ids = '[]' WHERE id = ? AND status = 'matched' AND EXISTS (SELECT 1 FROM json_each(deal_ids) WHERE value = ?)",
      ).run(id, dealId).changes > 0;
    if (reopened) this.changes++;
    return reopened;
  }

  /** End a job offer for good (cancelled by its job creator, or abandoned by it) unless it already ended; returns whether it did. */
  endJobOffer(id: Hex, status: Extract<JobOfferRecord["status"], "cancelled" | "abandoned">): boolean {
    const ended = this.sql("UPDATE job_offers SET status = ? WHERE id = ? AND status IN ('open', 'matched')").run(status, id).changes > 0;
    if (ended) this.changes++;
    return ended;
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
      ["trust_leaf", filter.trustLeaf?.toLowerCase()],
    ] as const) {
      if (!value) continue;
      where.push(`${column} = ?`);
      args.push(value);
    }
    if (filter.status !== undefined) {
      const statuses = typeof filter.status === "string" ? [filter.status] : filter.status;
      where.push(`status IN (${statuses.map(() => "?").join(", ")})`);
      args.push(...statuses);
    }
    const text = `SELECT * FROM deals ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY proposed_at, id`;
    return (this.sql(text).all(...args) as Row[]).map(toDeal);
  }

  addDeal(rec: DealRecord, proposedAtMs: number): void {
    this.sql(
      `INSERT INTO deals (id, job_offer_id, resource_offer_id, provider, job_creator, terms, module, inputs, proposed_at, status, updated_at, replica_group, trust_leaf, trust_nonce)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
      ...(trustBacked(this.trustEscrow, rec.deal) && rec.trustNonce !== undefined ? routedTrustKeys(rec.deal, rec.trustNonce) : [null, null]),
    );
    this.holdAlso(rec);
  }

  /** Change a deal's progress. Its terms cannot change: there is no column here for them. */
  updateDeal(id: Hex, patch: DealPatch, now = Date.now()): void {
    const keys = (Object.keys(patch) as (keyof DealPatch)[]).filter((k) => patch[k] !== undefined);
    const values = keys.map((k) => (k === "result" || k === "progress" ? json(patch[k]) : (patch[k] as string)));
    const set = [...keys.map((k) => `${dealColumns[k]} = ?`), "updated_at = ?"].join(", ");
    this.sql(`UPDATE deals SET ${set} WHERE id = ?`).run(...values, now, id);
    this.holdings = undefined;
    this.changes++;
  }

  /**
   * Record the nonce a routed trust deal's provider signed it under, and so how LilyTrustDeals'
   * events will name it. Set once: the book refuses to change it (a trigger).
   */
  setTrustNonce(rec: DealRecord, nonce: bigint): void {
    const [leaf, column] = routedTrustKeys(rec.deal, nonce);
    this.sql("UPDATE deals SET trust_leaf = ?, trust_nonce = ? WHERE id = ?").run(leaf, column, rec.id);
    this.changes++;
  }

  /** Record what the chain showed of a deal. */
  setOnChain(id: Hex, fact: ChainFact): void {
    this.sql("UPDATE deals SET on_chain = ? WHERE id = ?").run(fact, id);
    this.holdings = undefined;
    this.changes++;
  }

  /** A new deal holds its provider's capacity and both parties' escrow until it opens: add it to the sums kept, as SQL would count it. */
  private holdAlso(rec: DealRecord): void {
    const h = this.holdings;
    const job = h && this.getJobOffer(rec.jobOfferId);
    if (!h || !job || !(ACTIVE_DEAL_STATUSES as readonly string[]).includes(rec.status)) {
      this.holdings = undefined;
      return;
    }
    const trust = trustBacked(this.trustEscrow, rec.deal);
    const provider = backingKey(rec.deal.provider, trust);
    const jobCreator = backingKey(rec.deal.jobCreator, trust);
    const locks = dealLocks(rec.deal);
    h.used.set(rec.deal.provider, addResources(h.used.get(rec.deal.provider) ?? NO_RESOURCES, resourcesOf(job.offer)));
    h.held.set(provider, (h.held.get(provider) ?? 0n) + locks.provider);
    h.held.set(jobCreator, (h.held.get(jobCreator) ?? 0n) + locks.jobCreator);
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

  /** The followed routed trust deals with this leaf (lowercase), as DealsOpened names them. */
  trustDealsByLeaf(leaf: Hex): Hex[] {
    return (this.sql("SELECT id FROM deals WHERE trust_leaf = ?").all(leaf) as { id: Hex }[]).map((r) => r.id);
  }

  /** The followed routed trust deals of `provider` with this nonce, as DealsSettled and DealsTimedOut name them. */
  trustDealsByNonce(provider: Address, nonce: bigint): { id: Hex; seenOpened: boolean }[] {
    const rows = this.sql("SELECT id, provider, on_chain FROM deals WHERE trust_nonce = ?").all(nonceColumn(nonce)) as {
      id: Hex;
      provider: Address;
      on_chain: string | null;
    }[];
    return rows.filter((r) => isAddressEqual(r.provider, provider)).map((r) => ({ id: r.id, seenOpened: r.on_chain !== null }));
  }

  // --- matching ---

  /** What the book's deals hold now (see book/usage.ts): summed in SQL, nothing parsed, no offer read. */
  /** Of `jobs` only when given (exclusions, latest openBy), else of every open job offer; the sums are kept between reads (see the header). */
  usage(now = Math.floor(Date.now() / 1000), jobs?: readonly Hex[]): Omit<Snapshot, "jobs" | "offers" | "escrow"> {
    const sql = (text: string) => this.sql(text);
    if (!this.holdings || now < this.holdings.from || now > this.holdings.until) this.holdings = { ...readHoldings(sql, now, this.trustEscrow), from: now };
    return { used: this.holdings.used, held: this.holdings.held, ...readJobState(sql, jobs), ...(this.trustEscrow && { trustEscrow: true }) };
  }

  /** What the matcher needs, read at one instant, with the escrow balances read from the chain (the naive scan's input: every open job, every active offer). */
  /** `now`: unix seconds, the solver's clock (a dropped deal a party signed counts until its openBy). */
  snapshot(escrow: ReadonlyMap<BackingKey, bigint>, now = Math.floor(Date.now() / 1000)): Snapshot {
    return { ...readUsage((text) => this.sql(text), now, this.trustEscrow), jobs: this.openJobOffers(), offers: this.activeResourceOffers(), escrow };
  }
}

/** A trust nonce as its column holds it: 0x and 16 lowercase hex digits (rows.ts reads it back). */
const nonceColumn = (nonce: bigint) => `0x${nonce.toString(16).padStart(16, "0")}`;

/** A routed trust deal's leaf and nonce columns: how LilyTrustDeals' events will name it. */
function routedTrustKeys(deal: DealRecord["deal"], nonce: bigint): [string, string] {
  return [trustLeaf(deal.provider, trustTermsOf(trustDealOf(deal, nonce))).toLowerCase(), nonceColumn(nonce)];
}

function followed(row: Row): FollowedDeal {
  return { deal: toDeal(row), ...(row.on_chain !== null && { onChain: row.on_chain as ChainFact }) };
}
