// The provider's SQLite: the deals it signed and where each one stands, and the resource offers
// it made. A restarted provider knows every deal it must follow (until its openBy, its deadline or
// its settlement) and every offer a proposal may refer to.
import { openDatabase, transaction, type Database } from "@lily/node-kit";
import { Deal, ResourceOffer, parse, toWire, type DealMessage } from "@lily/protocol";
import type { Address, Hex } from "viem";
import { NO_RESOURCES, type Resources } from "./resources.ts";

/**
 * signed → opened → ran (result stored, not yet on chain) → committed (awaiting its policy) →
 * settled | slashed | failed (timed out); or declined (never signed), expired (signed, never
 * opened by its openBy).
 */
export type LocalDealStatus = "signed" | "opened" | "ran" | "committed" | "settled" | "slashed" | "failed" | "declined" | "expired";

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
  resultCid?: string;
  exitCode?: number;
  /** The job's inputs are back in the store for a mediator (after a dispute). */
  inputsRestored?: boolean;
  /** The last status reported to the solver, so each is sent once. */
  reported?: string;
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
];

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
type Extra = Pick<LocalDeal, "needs" | "group" | "openRefused" | "exitCode" | "inputsRestored" | "reported"> & { replicas?: unknown[] };

export interface StoredOffer {
  id: Hex;
  offer: ResourceOffer;
  signature: Hex;
}

export class ProviderDb {
  private readonly db: Database;

  constructor(path: string) {
    this.db = openDatabase(path, migrations);
  }

  get(id: Hex): LocalDeal | undefined {
    const row = this.db.prepare("SELECT * FROM deals WHERE id = ?").get(id.toLowerCase()) as Row | undefined;
    return row && fromRow(row);
  }

  put(d: LocalDeal): void {
    const extra: Extra = {
      needs: d.needs,
      group: d.group,
      replicas: d.replicas?.map((r) => toWire(r)),
      openRefused: d.openRefused,
      exitCode: d.exitCode,
      inputsRestored: d.inputsRestored,
      reported: d.reported,
    };
    this.db
      .prepare(
        `INSERT INTO deals (id, deal, module, inputs, status, result_cid, error, extra, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET status = excluded.status, result_cid = excluded.result_cid, error = excluded.error,
           extra = excluded.extra, updated_at = excluded.updated_at`,
      )
      .run(
        d.id.toLowerCase(),
        JSON.stringify(toWire(d.deal)),
        d.module,
        d.inputs,
        d.status,
        d.resultCid ?? null,
        d.error ?? null,
        JSON.stringify(extra),
        Date.now(),
      );
  }

  /** Deals this provider still follows: signed and waiting to open, owing a result, or awaiting settlement. */
  followed(): LocalDeal[] {
    const marks = FOLLOWED.map(() => "?").join(", ");
    return (this.db.prepare(`SELECT * FROM deals WHERE status IN (${marks})`).all(...FOLLOWED) as unknown as Row[]).map(fromRow);
  }

  all(): LocalDeal[] {
    return (this.db.prepare("SELECT * FROM deals ORDER BY updated_at").all() as unknown as Row[]).map(fromRow);
  }

  /** Remember a resource offer before it is posted: a proposal may refer to it even if the post's answer is lost. */
  putOffer(o: StoredOffer): void {
    transaction(this.db, () => {
      this.db
        .prepare("INSERT OR IGNORE INTO resource_offers (id, offer, signature, created_at) VALUES (?, ?, ?, ?)")
        .run(o.id.toLowerCase(), JSON.stringify(toWire(o.offer)), o.signature, Date.now());
    });
  }

  /** Every resource offer this provider made, newest (highest nonce) last. */
  offers(): StoredOffer[] {
    const rows = this.db.prepare("SELECT id, offer, signature FROM resource_offers").all() as unknown as { id: string; offer: string; signature: string }[];
    return rows
      .map((r) => ({ id: r.id as Hex, offer: parse(ResourceOffer, JSON.parse(r.offer), "resource offer"), signature: r.signature as Hex }))
      .sort((a, b) => (a.offer.nonce < b.offer.nonce ? -1 : a.offer.nonce > b.offer.nonce ? 1 : 0));
  }

  close(): void {
    this.db.close();
  }
}

function fromRow(r: Row): LocalDeal {
  const extra = JSON.parse(r.extra) as Extra;
  const deal = parse(Deal, JSON.parse(r.deal), "deal");
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
    ...(r.result_cid !== null && { resultCid: r.result_cid }),
    ...(extra.exitCode !== undefined && { exitCode: extra.exitCode }),
    ...(extra.inputsRestored && { inputsRestored: true }),
    ...(extra.reported !== undefined && { reported: extra.reported }),
    ...(r.error !== null && { error: r.error }),
  };
}
