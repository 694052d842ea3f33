// The provider's SQLite: the deals it signed and where each one stands, and the resource offers
// it made. A restarted provider knows every deal it must follow (until its openBy, its deadline or
// its settlement) and every offer a proposal may refer to.
//
// Every pass reads the followed deals and every solver event looks a status up: statements are
// prepared once (compiling the SQL again on each call was most of these reads' cost), and a
// deal's terms, which never change once written, are validated once per process.
import type { StatementSync } from "node:sqlite";
import { openDatabase, preparedOnce, reliedBlocksMigration, reliedBlocksTable, transaction, type Database, type ReliedBlocksTable } from "@lily/node-kit";
import { Deal, ResourceOffer, isTrustDeal, legacyTrustNonce, parse, toWire, type DealMessage, wireJson } from "@lily/protocol";
import type { Address, Hex } from "viem";
import type { RoutedDeal } from "@lily/chain";
import { NO_RESOURCES, type Resources } from "./resources.ts";
import { leaseMigrations } from "./leases/leaseMigrations.ts";

/**
 * signed → opened → ran (result stored, not yet on chain) → committed (awaiting its policy) →
 * settled | slashed | failed (timed out, or given up past its deadline: the collateral is lost) |
 * unwound (disputed, nobody ruled in time: the collateral came back); or declined (never signed),
 * expired (signed, never opened by its openBy).
 */
export type LocalDealStatus = "signed" | "opened" | "ran" | "committed" | "settled" | "slashed" | "failed" | "unwound" | "declined" | "expired";

/** Statuses in which the provider still has something to do or to watch. */
export const FOLLOWED: readonly LocalDealStatus[] = ["signed", "opened", "ran", "committed"];

export interface LocalDeal {
  id: Hex;
  deal: DealMessage;
  module: string;
  inputs: string;
  /** What the job needs from this machine while the deal holds it. */
  needs: Resources;
  status: LocalDealStatus;
  /** replicate(k): the group's providers, sorted, as the deal's `replicas` hash commits to. */
  group?: Address[];
  /** replicate(k): every replica's terms, once known, to tally the group. */
  replicas?: DealMessage[];
  /** Why this provider's own opening was refused: from then on it only watches the chain. */
  openRefused?: string;
  /** The job creator's signature this provider opened the deal with, to open it again if the chain loses the opening. */
  jobCreatorSig?: Hex;
  /**
   * A routed trust deal: the LilyTrustDeals batch it opened in, where settling it proves against
   * (only a hint: checked against the chain's root before each use, see trustBatchOf.ts).
   */
  trustBatchNo?: bigint;
  /**
   * A routed trust deal: the nonce this provider signed its TrustDeal under, the next of its own
   * sequence (nextTrustNonce), kept before the signature leaves so the deal is always signed alike.
   */
  trustNonce?: bigint;
  resultCid?: string;
  exitCode?: number;
  /** The module as people name it (name@version) and its executor, from the manifest checked at signing. */
  moduleRef?: string;
  executor?: string;
  /** How long the executor ran the job. */
  durationMs?: number;
  /** The job's inputs are back in the store for a mediator (after a dispute). */
  inputsRestored?: boolean;
  /** The last status reported to the solver, so each is sent once. */
  reported?: string;
  /**
   * The signed Result is owed to the solver: set when the result goes on chain, cleared once the
   * solver took (or refused) it, or once the job creator no longer waits for it. Until then a later
   * pass sends it again (resultsToResend): on LilyTrustDeals it is the result's only word, so a
   * settled deal whose Result was lost to a solver that did not answer would leave a paid job
   * without its result. Only owing deals are indexed, so a pass never reads the settled history.
   */
  resultOwed?: boolean;
  error?: string;
}

const migrations = [
  `CREATE TABLE deals (
     id TEXT PRIMARY KEY,
     deal TEXT NOT NULL,
     module TEXT NOT NULL,
     inputs TEXT NOT NULL,
     status TEXT NOT NULL,
     result_cid TEXT,
     error TEXT,
     updated_at INTEGER NOT NULL
   )`,
  // Everything a restarted provider needs to follow a deal without asking anyone, and its offers.
  `ALTER TABLE deals ADD COLUMN extra TEXT NOT NULL DEFAULT '{}';
   CREATE TABLE resource_offers (
     id TEXT PRIMARY KEY,
     offer TEXT NOT NULL,
     signature TEXT NOT NULL,
     created_at INTEGER NOT NULL
   );`,
  // The metrics count deals by status on every scrape.
  "CREATE INDEX deals_status ON deals (status)",
  // Inference leases (leases/leaseBook.ts).
  ...leaseMigrations,
  // The blocks a settled deal's record relies on, until checked to be still the chain's (lostBlocks.ts).
  reliedBlocksMigration,
  // The next nonce for a routed trust deal (a decimal string: a uint64 may not fit SQLite's integers).
  `CREATE TABLE trust_nonce (id INTEGER PRIMARY KEY CHECK (id = 1), next TEXT NOT NULL)`,
  // The deals whose signed Result is still owed to the solver (resultsToResend): a handful, read every pass.
  `CREATE INDEX deals_result_owed ON deals (status) WHERE json_extract(extra, '$.resultOwed') = 1`,
];

/**
 * Where a provider's nonces start when its database has none: the unix second shifted left 20 bits.
 * A provider whose database was lost so starts above every nonce it used before, unless it had
 * used more than 2^20 a second since that database began; and each start is a fresh state word
 * of the contract's state bitmap (2 bits a nonce, 128 nonces a word), which its next 127 deals share.
 */
const NONCE_START_SHIFT = 20n;

interface Row {
  id: string;
  deal: string;
  module: string;
  inputs: string;
  status: string;
  result_cid: string | null;
  error: string | null;
  extra: string;
}

/** The fields kept as one JSON column. */
type Extra = Pick<
  LocalDeal,
  "needs" | "group" | "openRefused" | "jobCreatorSig" | "exitCode" | "inputsRestored" | "reported" | "resultOwed" | "moduleRef" | "executor" | "durationMs"
> & {
  replicas?: unknown[];
  /** A decimal string: JSON has no bigint. */
  trustBatchNo?: string;
  /** A decimal string. */
  trustNonce?: string;
};

/** What the deals say of the provider's work so far, summed from the database (so it survives restarts). */
export interface DealStats {
  /** Deals by status and module (name@version once checked, else the manifest CID). */
  deals: { status: LocalDealStatus; module: string; count: number }[];
  /** Jobs that ran and exited non-zero (the module failed, hit a limit, or its inputs were refused), by module. */
  failures: { module: string; count: number }[];
  /** Paid by settled deals: each one's price less the module's royalty, as the contract pays it. */
  earnedWei: bigint;
  /** Collateral lost: to slashing, and to deals that timed out or were given up past their deadline. */
  lostCollateralWei: bigint;
  /** Executor run times, in seconds, by executor kind. */
  durations: { executor: string; seconds: number }[];
}

/** The contract's royalty arithmetic: mulDiv(price, royaltyBps, 10 000), rounded down. */
const MAX_ROYALTY_BPS = 10_000n;

/** Parsed deal terms kept by their stored JSON; past this many the memo starts again (a provider follows far fewer at once). */
const MAX_PARSED_DEALS = 4096;

export interface StoredOffer {
  id: Hex;
  offer: ResourceOffer;
  signature: Hex;
}

export class ProviderDb {
  private readonly db: Database;
  /** Each SQL text's statement, prepared once. */
  private readonly prepare: (sql: string) => StatementSync;
  /** A deal's terms as validated, by the JSON stored for them (the column is never updated). */
  private readonly parsedDeals = new Map<string, DealMessage>();
  /** Every offer made, as validated, by id: at most a few a day, read on every proposal. */
  private readonly parsedOffers = new Map<string, StoredOffer>();

  /** The blocks settled records rely on (lostBlocks.ts). */
  readonly blocks: ReliedBlocksTable;

  constructor(path: string) {
    this.db = openDatabase(path, migrations);
    this.blocks = reliedBlocksTable(this.db);
    this.prepare = preparedOnce(this.db);
  }

  /** The connection itself, for the lease book's tables (leases/leaseBook.ts). */
  get database(): Database {
    return this.db;
  }

  /** The row's terms, validated the first time they are read. Frozen: every reader shares them. */
  private dealOf(json: string): DealMessage {
    let deal = this.parsedDeals.get(json);
    if (!deal) {
      deal = Object.freeze(parse(Deal, JSON.parse(json), "deal"));
      if (this.parsedDeals.size >= MAX_PARSED_DEALS) this.parsedDeals.clear();
      this.parsedDeals.set(json, deal);
    }
    return deal;
  }

  private fromRow(r: Row): LocalDeal {
    return fromRow(r, this.dealOf(r.deal));
  }

  get(id: Hex): LocalDeal | undefined {
    const row = this.prepare("SELECT * FROM deals WHERE id = ?").get(id.toLowerCase()) as Row | undefined;
    return row && this.fromRow(row);
  }

  /** The deal's status alone (no record parsed): for deciding cheaply whether an event is news. */
  statusOf(id: string): LocalDealStatus | undefined {
    const row = this.prepare("SELECT status FROM deals WHERE id = ?").get(id.toLowerCase()) as { status: LocalDealStatus } | undefined;
    return row?.status;
  }

  put(d: LocalDeal): void {
    const extra: Extra = {
      needs: d.needs,
      group: d.group,
      replicas: d.replicas?.map((r) => toWire(r)),
      openRefused: d.openRefused,
      jobCreatorSig: d.jobCreatorSig,
      exitCode: d.exitCode,
      inputsRestored: d.inputsRestored,
      reported: d.reported,
      resultOwed: d.resultOwed,
      moduleRef: d.moduleRef,
      executor: d.executor,
      durationMs: d.durationMs,
      trustBatchNo: d.trustBatchNo?.toString(),
      trustNonce: d.trustNonce?.toString(),
    };
    this.prepare(
      `INSERT INTO deals (id, deal, module, inputs, status, result_cid, error, extra, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET status = excluded.status, result_cid = excluded.result_cid, error = excluded.error,
           extra = excluded.extra, updated_at = excluded.updated_at`,
    ).run(d.id.toLowerCase(), wireJson(d.deal), d.module, d.inputs, d.status, d.resultCid ?? null, d.error ?? null, JSON.stringify(extra), Date.now());
  }

  /**
   * Give a routed trust deal the next nonce of this provider's sequence and store it, in one
   * transaction: a nonce is never given twice, even across a crash (one lost to a crash is skipped).
   * `nowSeconds` starts the sequence of a database that has none (NONCE_START_SHIFT).
   */
  withNextTrustNonce(d: LocalDeal, nowSeconds: number): LocalDeal {
    return transaction(this.db, () => {
      const numbered = { ...d, trustNonce: this.takeTrustNonce(nowSeconds) };
      this.put(numbered);
      return numbered;
    });
  }

  /** Take the next nonce of the sequence (kept as taken at once); withNextTrustNonce is how a deal gets one. */
  takeTrustNonce(nowSeconds: number): bigint {
    const row = this.prepare("SELECT next FROM trust_nonce WHERE id = 1").get() as { next: string } | undefined;
    const nonce = row ? BigInt(row.next) : BigInt(nowSeconds) << NONCE_START_SHIFT;
    this.prepare("INSERT INTO trust_nonce (id, next) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET next = excluded.next").run((nonce + 1n).toString());
    return nonce;
  }

  /** Deals this provider still follows: signed and waiting to open, owing a result, or awaiting settlement. */
  followed(): LocalDeal[] {
    const marks = FOLLOWED.map(() => "?").join(", ");
    return (this.prepare(`SELECT * FROM deals WHERE status IN (${marks})`).all(...FOLLOWED) as unknown as Row[]).map((r) => this.fromRow(r));
  }

  /** Deals whose signed Result is still owed (resultOwed): a handful, through the partial index. */
  private owedResults(): LocalDeal[] {
    return (this.prepare("SELECT * FROM deals WHERE json_extract(extra, '$.resultOwed') = 1").all() as unknown as Row[]).map((r) => this.fromRow(r));
  }

  /**
   * Settled deals whose signed Result is still owed and still wanted: until their deadline plus
   * `graceSeconds` (unix seconds `now`), when the job creator stops waiting (`giveUpResults`).
   */
  resultsToResend(now: number, graceSeconds: number): LocalDeal[] {
    return this.owedResults().filter((d) => d.status === "settled" && d.resultCid !== undefined && Number(d.deal.deadline) + graceSeconds >= now);
  }

  /** Owe no more the Results nobody waits for now (past their deadline plus `graceSeconds`): they leave the index. Returns their ids. */
  giveUpResults(now: number, graceSeconds: number): Hex[] {
    const late = this.owedResults().filter((d) => Number(d.deal.deadline) + graceSeconds < now);
    for (const d of late) this.put({ ...d, resultOwed: false });
    return late.map((d) => d.id);
  }

  /**
   * Follow again the settled deals whose deadline (unix seconds) has not passed: the chain lost
   * blocks, maybe the one that paid them, and until the deadline a lost commit can be sent again.
   * They go back to `committed`, and the next pass reads each from the chain. Returns their ids.
   */
  followSettledAgain(now: number): Hex[] {
    const rows = this.db
      .prepare(
        "UPDATE deals SET status = 'committed', updated_at = ? WHERE status = 'settled' AND CAST(json_extract(deal, '$.deadline') AS INTEGER) >= ? RETURNING id",
      )
      .all(Date.now(), now) as unknown as { id: Hex }[];
    return rows.map((r) => r.id);
  }

  all(): LocalDeal[] {
    return (this.prepare("SELECT * FROM deals ORDER BY updated_at").all() as unknown as Row[]).map((r) => this.fromRow(r));
  }

  stats(): DealStats {
    const label = "COALESCE(json_extract(extra, '$.moduleRef'), module)";
    const deals = this.db
      .prepare(`SELECT status, ${label} AS module, COUNT(*) AS count FROM deals GROUP BY 1, 2 ORDER BY 1, 2`)
      .all() as unknown as DealStats["deals"];
    const failures = this.db
      .prepare(`SELECT ${label} AS module, COUNT(*) AS count FROM deals WHERE json_extract(extra, '$.exitCode') != 0 GROUP BY 1 ORDER BY 1`)
      .all() as unknown as DealStats["failures"];
    // Amounts are wei as decimal strings: summed as bigints here, since SQLite's integers stop at 2^63.
    const amounts = this.db
      .prepare(
        `SELECT status, json_extract(deal, '$.price') AS price, json_extract(deal, '$.collateral') AS collateral, json_extract(deal, '$.royaltyBps') AS bps
         FROM deals WHERE status IN ('settled', 'slashed', 'failed')`,
      )
      .all() as unknown as { status: string; price: string; collateral: string; bps: number }[];
    let earnedWei = 0n;
    let lostCollateralWei = 0n;
    for (const a of amounts) {
      if (a.status === "settled") earnedWei += BigInt(a.price) - (BigInt(a.price) * BigInt(a.bps)) / MAX_ROYALTY_BPS;
      else lostCollateralWei += BigInt(a.collateral);
    }
    const durations = this.db
      .prepare(
        `SELECT COALESCE(json_extract(extra, '$.executor'), 'unknown') AS executor, json_extract(extra, '$.durationMs') / 1000.0 AS seconds
         FROM deals WHERE json_extract(extra, '$.durationMs') IS NOT NULL`,
      )
      .all() as unknown as DealStats["durations"];
    return { deals, failures, earnedWei, lostCollateralWei, durations };
  }

  /** Remember a resource offer before it is posted: a proposal may refer to it even if the post's answer is lost. */
  putOffer(o: StoredOffer): void {
    transaction(this.db, () => {
      this.db
        .prepare("INSERT OR IGNORE INTO resource_offers (id, offer, signature, created_at) VALUES (?, ?, ?, ?)")
        .run(o.id.toLowerCase(), wireJson(o.offer), o.signature, Date.now());
    });
  }

  /** Every resource offer this provider made, newest (highest nonce) last. */
  offers(): StoredOffer[] {
    const rows = this.prepare("SELECT id, offer, signature FROM resource_offers").all() as unknown as { id: string; offer: string; signature: string }[];
    return rows.map((r) => this.offerOf(r)).sort((a, b) => (a.offer.nonce < b.offer.nonce ? -1 : a.offer.nonce > b.offer.nonce ? 1 : 0));
  }

  /** A stored offer, validated the first time it is read: a row is never changed once written (INSERT OR IGNORE). */
  private offerOf(r: { id: string; offer: string; signature: string }): StoredOffer {
    let o = this.parsedOffers.get(r.id);
    if (!o || o.signature !== r.signature) {
      o = Object.freeze({ id: r.id as Hex, offer: Object.freeze(parse(ResourceOffer, JSON.parse(r.offer), "resource offer")), signature: r.signature as Hex });
      this.parsedOffers.set(r.id, o);
    }
    return o;
  }

  close(): void {
    this.db.close();
  }
}

function fromRow(r: Row, deal: DealMessage): LocalDeal {
  const extra = JSON.parse(r.extra) as Extra;
  return {
    id: r.id as Hex,
    deal,
    module: r.module,
    inputs: r.inputs,
    // A deal recorded before needs were kept holds no capacity it cannot name.
    needs: extra.needs ?? NO_RESOURCES,
    status: r.status as LocalDealStatus,
    ...(extra.group && { group: extra.group }),
    ...(extra.replicas && { replicas: extra.replicas.map((x, i) => parse(Deal, x, `replicas[${i}]`)) }),
    ...(extra.openRefused !== undefined && { openRefused: extra.openRefused }),
    ...(extra.jobCreatorSig !== undefined && { jobCreatorSig: extra.jobCreatorSig }),
    ...(extra.trustBatchNo !== undefined && { trustBatchNo: BigInt(extra.trustBatchNo) }),
    ...storedTrustNonce(r.id as Hex, deal, extra.trustNonce),
    ...(r.result_cid !== null && { resultCid: r.result_cid }),
    ...(extra.exitCode !== undefined && { exitCode: extra.exitCode }),
    ...(extra.moduleRef !== undefined && { moduleRef: extra.moduleRef }),
    ...(extra.executor !== undefined && { executor: extra.executor }),
    ...(extra.durationMs !== undefined && { durationMs: extra.durationMs }),
    ...(extra.inputsRestored && { inputsRestored: true }),
    ...(extra.reported !== undefined && { reported: extra.reported }),
    ...(extra.resultOwed && { resultOwed: true }),
    ...(r.error !== null && { error: r.error }),
  };
}

/** The deal as @lily/chain's route functions take it (dealRoute.ts). */
export function routedOf(d: Pick<LocalDeal, "id" | "deal" | "trustNonce">): RoutedDeal {
  return { dealId: d.id, deal: d.deal, trustNonce: d.trustNonce };
}

/** A trust deal's nonce as stored; one stored before providers picked nonces has the one it was signed under (legacyTrustNonce). */
function storedTrustNonce(id: Hex, deal: DealMessage, stored: string | undefined): { trustNonce?: bigint } {
  if (stored !== undefined) return { trustNonce: BigInt(stored) };
  return isTrustDeal(deal) ? { trustNonce: legacyTrustNonce(id) } : {};
}
