// The mediator's record of audits, in SQLite: one row per receipt (its EIP-712 hash), so auditing
// the same receipt again re-runs nothing and slashes at most once. A wrong verdict is written
// before the slash is sent and the transaction after it lands: a crash between the two leaves a
// wrong answer unslashed, and the next audit of that receipt sends the slash again (the contract
// refuses a second slash of one receipt, so a slash that did land is not repeated).
import { openDatabase, type Database } from "@lily/node-kit";
import { LilyError } from "@lily/protocol";
import type { Hex } from "viem";
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
];

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

  constructor(path: string, now: () => number = Date.now) {
    this.db = openDatabase(path, migrations);
    this.now = now;
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

  recordSlash(receipt: Hex, txHash: Hex): AuditResult {
    const changed = this.db
      .prepare("UPDATE audits SET slash_tx = ?, updated_at = ? WHERE receipt = ? AND verdict = 'wrong'")
      .run(txHash, this.now(), receipt.toLowerCase()).changes;
    if (Number(changed) !== 1) throw new LilyError({ code: "NOT_FOUND", field: "receipt", message: `no wrong verdict for receipt ${receipt} to slash` });
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
