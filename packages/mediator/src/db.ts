// The mediator's record of disputes, in SQLite: every dispute it has seen, where it got to, and
// the ruling it sent, plus the last block scanned. A restarted mediator resumes from there; a
// dispute that reached a terminal status (ruled, not-mine, failed) is never touched again, so
// it never rules twice: the one way back is `followAgain`, when the chain node lost blocks a
// record relied on (reliedBlocks in @lily/chain), and even then the contract refuses a second ruling.
import { openDatabase, reliedBlocksMigration, reliedBlocksTable, transaction, type Database, type ReliedBlocksTable } from "@lily/node-kit";
import { Deal, LilyError, parse, wireJson } from "@lily/protocol";
import type { Address, Hex } from "viem";
import { TERMINAL, type Dispute, type DisputeSighting, type DisputeStatus, type Ruling } from "./dispute.ts";

const migrations = [
  `CREATE TABLE disputes (
     key TEXT PRIMARY KEY,
     kind TEXT NOT NULL,
     event TEXT NOT NULL,
     tx_hash TEXT NOT NULL,
     block_number INTEGER NOT NULL,
     status TEXT NOT NULL,
     deals TEXT,
     mediators TEXT,
     ruling TEXT,
     ruling_tx TEXT,
     error TEXT,
     recheck_block INTEGER,
     attempts INTEGER NOT NULL DEFAULT 0,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE INDEX disputes_status ON disputes (status, block_number);
   CREATE TABLE scan (id INTEGER PRIMARY KEY CHECK (id = 1), last_block INTEGER NOT NULL);
   -- A ruling, once recorded as sent, is final: no update may change it or revive the dispute.
   CREATE TRIGGER ruled_is_final BEFORE UPDATE ON disputes
     WHEN OLD.status IN ('ruled', 'not-mine', 'failed')
     BEGIN SELECT RAISE(ABORT, 'dispute is final'); END;`,
  // A mediator without the turn also looks again when the turn passes on (chain time, seconds).
  `ALTER TABLE disputes ADD COLUMN recheck_at INTEGER;`,
  // The blocks a final record (a ruling sent, a dispute resolved) and the scan cursor rely on,
  // until checked to be still the chain's. A final dispute goes back to 'seen' only when the node
  // lost one of them (followAgain), and only by counting it in `revivals`: its ruling, or what
  // ended it, may be gone.
  `${reliedBlocksMigration};
   ALTER TABLE disputes ADD COLUMN revivals INTEGER NOT NULL DEFAULT 0;
   DROP TRIGGER ruled_is_final;
   CREATE TRIGGER ruled_is_final BEFORE UPDATE ON disputes
     WHEN OLD.status IN ('ruled', 'not-mine', 'failed') AND NOT (NEW.status = 'seen' AND NEW.revivals = OLD.revivals + 1)
     BEGIN SELECT RAISE(ABORT, 'dispute is final'); END;`,
];

interface Row {
  key: string;
  kind: string;
  event: string;
  tx_hash: string;
  block_number: number;
  status: string;
  deals: string | null;
  mediators: string | null;
  ruling: string | null;
  ruling_tx: string | null;
  error: string | null;
  recheck_block: number | null;
  recheck_at: number | null;
  attempts: number;
}

/** What may change as a dispute moves on. */
export type DisputeUpdate = Partial<Pick<Dispute, "deals" | "mediators" | "ruling" | "rulingTx" | "error" | "recheckBlock" | "recheckAt">> & {
  status: DisputeStatus;
};

export class MediatorDb {
  private readonly db: Database;
  private readonly now: () => number;
  /** The blocks the final records and the scan cursor rely on. */
  readonly blocks: ReliedBlocksTable;

  /** `now` (milliseconds) stamps when each dispute was first seen and last changed. */
  constructor(path: string, now: () => number = Date.now) {
    this.db = openDatabase(path, migrations);
    this.now = now;
    this.blocks = reliedBlocksTable(this.db);
  }

  /** The last block whose events were recorded, or undefined on a fresh database. */
  lastScannedBlock(): number | undefined {
    const row = this.db.prepare("SELECT last_block FROM scan WHERE id = 1").get() as { last_block: number } | undefined;
    return row?.last_block;
  }

  /**
   * Record the disputes found in blocks up to `toBlock` and move the cursor there, in one
   * transaction: a crash loses neither a dispute nor the place to resume from. A dispute seen
   * again (a rescan) is not added twice; if it is not final, it is looked at on the next pass.
   */
  recordScan(toBlock: number, found: DisputeSighting[]): number {
    return transaction(this.db, () => {
      const insert = this.db.prepare(
        `INSERT INTO disputes (key, kind, event, tx_hash, block_number, status, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, 'seen', ?, ?) ON CONFLICT(key) DO NOTHING`,
      );
      // Seen again while not final: the chain lost blocks and this is the dispute raised again
      // (or a rescan after the loss), so it is looked at now, not at its old recheck.
      const again = this.db.prepare(
        `UPDATE disputes SET tx_hash = ?, block_number = ?, recheck_block = NULL, recheck_at = NULL
         WHERE key = ? AND status NOT IN (${TERMINAL.map(() => "?").join(", ")})`,
      );
      let added = 0;
      const now = this.now();
      for (const d of found) {
        const key = d.key.toLowerCase();
        const n = Number(insert.run(key, d.kind, d.event, d.txHash, d.blockNumber, now, now).changes);
        if (n === 0) again.run(d.txHash, d.blockNumber, key, ...TERMINAL);
        added += n;
      }
      this.db
        .prepare("INSERT INTO scan (id, last_block) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET last_block = MAX(last_block, excluded.last_block)")
        .run(toBlock);
      return added;
    });
  }

  get(key: Hex): Dispute | undefined {
    const row = this.db.prepare("SELECT * FROM disputes WHERE key = ?").get(key.toLowerCase()) as Row | undefined;
    return row && fromRow(row);
  }

  /**
   * Disputes still to be handled at block `blockNumber` and chain time `time` (unix seconds),
   * oldest first: those not waiting, and those whose recheck block or time (whichever comes
   * first) has come.
   */
  pending(blockNumber: number, time: number): Dispute[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM disputes WHERE status NOT IN (${TERMINAL.map(() => "?").join(", ")})
         AND ((recheck_block IS NULL AND recheck_at IS NULL) OR recheck_block <= ? OR recheck_at <= ?)
         ORDER BY block_number, key`,
      )
      .all(...TERMINAL, blockNumber, time) as unknown as Row[];
    return rows.map(fromRow);
  }

  all(): Dispute[] {
    return (this.db.prepare("SELECT * FROM disputes ORDER BY block_number, key").all() as unknown as Row[]).map(fromRow);
  }

  /** Move a dispute on. Fails with CONFLICT on a dispute that is already final. */
  update(key: Hex, u: DisputeUpdate): Dispute {
    const current = this.get(key);
    if (!current) throw new LilyError({ code: "NOT_FOUND", field: "key", message: `no dispute ${key}` });
    if (TERMINAL.includes(current.status)) {
      throw new LilyError({
        code: "CONFLICT",
        field: "status",
        message: `dispute ${key} is already ${current.status}`,
        details: { key, status: current.status },
      });
    }
    const next: Dispute = { ...current, ...u };
    this.db
      .prepare(
        "UPDATE disputes SET status = ?, deals = ?, mediators = ?, ruling = ?, ruling_tx = ?, error = ?, recheck_block = ?, recheck_at = ?, updated_at = ? WHERE key = ?",
      )
      .run(
        next.status,
        next.deals ? wireJson(next.deals) : null,
        next.mediators ? JSON.stringify(next.mediators) : null,
        next.ruling ? JSON.stringify(next.ruling) : null,
        next.rulingTx ?? null,
        next.error ?? null,
        next.recheckBlock ?? null,
        next.recheckAt ?? null,
        this.now(),
        key.toLowerCase(),
      );
    return next;
  }

  /**
   * Count a failed attempt at `key`, keeping its status so the next pass tries again, until
   * `maxAttempts` have failed: then it is `failed`, for good. Returns the dispute as stored.
   */
  recordFailure(key: Hex, reason: string, maxAttempts: number): Dispute {
    const current = this.get(key);
    if (!current) throw new LilyError({ code: "NOT_FOUND", field: "key", message: `no dispute ${key}` });
    this.db.prepare("UPDATE disputes SET attempts = attempts + 1, error = ?, updated_at = ? WHERE key = ?").run(reason, this.now(), key.toLowerCase());
    const attempted = this.get(key)!;
    return attempted.attempts >= maxAttempts ? this.update(key, { status: "failed", error: reason }) : attempted;
  }

  /**
   * The chain lost blocks: scan again from after `scanFrom`, and look again at every dispute
   * ruled or resolved since `sinceMs` (its ruling, or what ended it, may be gone; older ones are
   * past any mediation timeout) and at every waiting one now. A ruling still on chain is found
   * by the next look; one that is gone is sent again. Returns how many disputes were revived.
   */
  followAgain(scanFrom: number, sinceMs: number): number {
    return transaction(this.db, () => {
      this.db.prepare("UPDATE scan SET last_block = MIN(last_block, ?) WHERE id = 1").run(scanFrom);
      this.db.prepare("UPDATE disputes SET recheck_block = NULL, recheck_at = NULL WHERE status IN ('seen', 're-running', 'ruling')").run();
      return Number(
        this.db
          .prepare(
            `UPDATE disputes SET status = 'seen', revivals = revivals + 1, error = NULL, recheck_block = NULL, recheck_at = NULL, updated_at = ?
             WHERE status IN ('ruled', 'not-mine') AND updated_at >= ?`,
          )
          .run(this.now(), sinceMs).changes,
      );
    });
  }

  close(): void {
    this.db.close();
  }
}

function fromRow(r: Row): Dispute {
  return {
    key: r.key as Hex,
    kind: r.kind as Dispute["kind"],
    event: r.event,
    txHash: r.tx_hash as Hex,
    blockNumber: r.block_number,
    status: r.status as DisputeStatus,
    deals: r.deals ? (JSON.parse(r.deals) as unknown[]).map((d, i) => parse(Deal, d, `deals.${i}`)) : undefined,
    mediators: r.mediators ? (JSON.parse(r.mediators) as Address[]) : undefined,
    ruling: r.ruling ? (JSON.parse(r.ruling) as Ruling) : undefined,
    rulingTx: (r.ruling_tx ?? undefined) as Hex | undefined,
    error: r.error ?? undefined,
    recheckBlock: r.recheck_block ?? undefined,
    recheckAt: r.recheck_at ?? undefined,
    attempts: r.attempts,
  };
}
