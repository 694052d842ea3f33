// The provider's record of its deals, in SQLite, so a restarted provider knows which deals it
// signed, which it opened and which results it still owes.
import { openDatabase, type Database } from "@lily/node-kit";
import { Deal, parse, toWire } from "@lily/protocol";
import type { Hex } from "viem";

/** signed → opened → committed (result on chain, awaiting settlement) → settled | slashed; or declined / failed. */
export type LocalDealStatus = "signed" | "opened" | "committed" | "settled" | "slashed" | "failed" | "declined";

export interface LocalDeal {
  id: Hex;
  deal: Deal;
  module: string;
  inputs: string;
  status: LocalDealStatus;
  resultCid?: string;
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
];

interface Row {
  id: string;
  deal: string;
  module: string;
  inputs: string;
  status: string;
  result_cid: string | null;
  error: string | null;
}

export class ProviderDb {
  private readonly db: Database;

  constructor(path: string) {
    this.db = openDatabase(path, migrations);
  }

  get(id: Hex): LocalDeal | undefined {
    const row = this.db.prepare("SELECT * FROM deals WHERE id = ?").get(id) as Row | undefined;
    return row && fromRow(row);
  }

  put(d: LocalDeal): void {
    this.db
      .prepare(
        `INSERT INTO deals (id, deal, module, inputs, status, result_cid, error, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET status = excluded.status, result_cid = excluded.result_cid, error = excluded.error, updated_at = excluded.updated_at`,
      )
      .run(d.id, JSON.stringify(toWire(d.deal)), d.module, d.inputs, d.status, d.resultCid ?? null, d.error ?? null, Date.now());
  }

  /** Deals this provider still owes a result for, or whose settlement it still waits for. */
  unfinished(): LocalDeal[] {
    return (this.db.prepare("SELECT * FROM deals WHERE status IN ('signed', 'opened', 'committed')").all() as unknown as Row[]).map(fromRow);
  }

  close(): void {
    this.db.close();
  }
}

function fromRow(r: Row): LocalDeal {
  return {
    id: r.id as Hex,
    deal: parse(Deal, JSON.parse(r.deal), "deal"),
    module: r.module,
    inputs: r.inputs,
    status: r.status as LocalDealStatus,
    resultCid: r.result_cid ?? undefined,
    error: r.error ?? undefined,
  };
}
