// The mediator's record of audits, in SQLite: one row per receipt (its EIP-712 hash), so auditing
// the same receipt again re-runs nothing and slashes at most once. A wrong verdict is written
// before the slash is sent and the transaction after it lands: a crash between the two leaves a
// wrong answer unslashed, and the next audit of that receipt sends the slash again (the contract
// refuses a second slash of one receipt, so a slash that did land is not repeated). A slash keeps
// what sending it again needs, and its block: if the chain node loses that block, it is sent again.
import { openDatabase, reliedBlocksMigration, reliedBlocksTable, type Database, type ReliedBlocksTable } from "@lily/node-kit";
import { LilyError, Lease, SignedReceipt, parse, wireJson } from "@lily/protocol";
import type { Hex } from "viem";
import type { BlockRef } from "@lily/chain";
import type { AuditResult, AuditVerdict as Verdict } from "@lily/api";

const migrations = [
  `CREATE TABLE audits (
     receipt TEXT PRIMARY KEY,
     lease TEXT NOT NULL,
     provider TEXT NOT NULL,
     seq TEXT NOT NULL,
     verdict TEXT NOT NULL CHECK (verdict IN ('correct', 'wrong')),
     reason TEXT NOT NULL,
     slash_tx TEXT,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE INDEX audits_lease ON audits (lease);
   -- A verdict is final, and so is a slash once sent.
   CREATE TRIGGER audit_verdict_final BEFORE UPDATE OF receipt, lease, provider, seq, verdict, reason ON audits
     BEGIN SELECT RAISE(ABORT, 'an audit verdict is final'); END;
   CREATE TRIGGER audit_slash_final BEFORE UPDATE OF slash_tx ON audits WHEN OLD.slash_tx IS NOT NULL
     BEGIN SELECT RAISE(ABORT, 'an audit slash is final'); END;`,
  // A slash's lease and signed receipt (wire JSON) and its block, so a slash the chain node lost
  // is sent again; the slash transaction changes only as such a resend, counted in \`resends\`.
  `${reliedBlocksMigration};
   ALTER TABLE audits ADD COLUMN slash_body TEXT;
   ALTER TABLE audits ADD COLUMN slash_block INTEGER;
   ALTER TABLE audits ADD COLUMN resends INTEGER NOT NULL DEFAULT 0;
   DROP TRIGGER audit_slash_final;
   CREATE TRIGGER audit_slash_final BEFORE UPDATE OF slash_tx ON audits WHEN OLD.slash_tx IS NOT NULL AND NEW.resends <> OLD.resends + 1
     BEGIN SELECT RAISE(ABORT, 'an audit slash is final'); END;`,
];

/** What a slash sends: the lease and the provider's signed receipt. */
export interface SlashBody {
  lease: Lease;
  receipt: SignedReceipt;
}

interface Row {
  receipt: string;
  lease: string;
  verdict: Verdict;
  reason: string;
  slash_tx: string | null;
}

const toResult = (r: Row): AuditResult => ({
  id: r.receipt as Hex,
  lease: r.lease as Hex,
  verdict: r.verdict,
  reason: r.reason,
  ...(r.slash_tx && { txHash: r.slash_tx as Hex }),
});

export class AuditDb {
  private readonly db: Database;
  private readonly now: () => number;
  /** The blocks recorded slashes rely on. */
  readonly blocks: ReliedBlocksTable;

  constructor(path: string, now: () => number = Date.now) {
    this.db = openDatabase(path, migrations);
    this.now = now;
    this.blocks = reliedBlocksTable(this.db);
  }

  get(receipt: Hex): AuditResult | undefined {
    const row = this.db.prepare("SELECT * FROM audits WHERE receipt = ?").get(receipt.toLowerCase()) as Row | undefined;
    return row && toResult(row);
  }

  /** Record a verdict; the first one for a receipt stands (returns the one stored). */
  recordVerdict(a: { receipt: Hex; lease: Hex; provider: string; seq: bigint; verdict: Verdict; reason: string }): AuditResult {
    const now = this.now();
    this.db
      .prepare(
        `INSERT INTO audits (receipt, lease, provider, seq, verdict, reason, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (receipt) DO NOTHING`,
      )
      .run(a.receipt.toLowerCase(), a.lease.toLowerCase(), a.provider, a.seq.toString(), a.verdict, a.reason, now, now);
    return this.get(a.receipt)!;
  }

  /** Record a slash sent; with its block and body, a slash the chain node loses is sent again (slashesAbove). */
  recordSlash(receipt: Hex, txHash: Hex, sent: { block: BlockRef; body: SlashBody }): AuditResult {
    this.blocks.relyOn(sent.block);
    const changed = this.db
      .prepare("UPDATE audits SET slash_tx = ?, slash_block = ?, slash_body = ?, updated_at = ? WHERE receipt = ? AND verdict = 'wrong'")
      .run(txHash, sent.block.number, wireJson(sent.body), this.now(), receipt.toLowerCase()).changes;
    if (Number(changed) !== 1) throw new LilyError({ code: "NOT_FOUND", field: "receipt", message: `no wrong verdict for receipt ${receipt} to slash` });
    return this.get(receipt)!;
  }

  /** Slashes sent in blocks above `height` (those a loss of the blocks above it may have undone), with what sending them again needs. */
  slashesAbove(height: bigint): { receipt: Hex; body: SlashBody }[] {
    const rows = this.db
      .prepare("SELECT receipt, slash_body FROM audits WHERE slash_body IS NOT NULL AND slash_block > ? ORDER BY slash_block")
      .all(height) as unknown as { receipt: string; slash_body: string }[];
    return rows.map((r) => {
      const wire = JSON.parse(r.slash_body) as { lease: unknown; receipt: unknown };
      return { receipt: r.receipt as Hex, body: { lease: parse(Lease, wire.lease, "lease"), receipt: parse(SignedReceipt, wire.receipt, "receipt") } };
    });
  }

  /** The slash of `receipt` sent again, the chain node having lost the first. */
  recordResend(receipt: Hex, txHash: Hex, block: BlockRef): AuditResult {
    this.blocks.relyOn(block);
    this.db
      .prepare("UPDATE audits SET slash_tx = ?, slash_block = ?, resends = resends + 1, updated_at = ? WHERE receipt = ?")
      .run(txHash, block.number, this.now(), receipt.toLowerCase());
    return this.get(receipt)!;
  }

  /** Audits of one lease so far: what bounds how many a payer may ask for. */
  countForLease(lease: Hex): number {
    return Number((this.db.prepare("SELECT count(*) AS n FROM audits WHERE lease = ?").get(lease.toLowerCase()) as { n: number }).n);
  }

  close(): void {
    this.db.close();
  }
}
