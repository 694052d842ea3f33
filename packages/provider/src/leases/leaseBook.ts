// The provider's lease book, kept in its SQLite: each lease it countersigned (terms, both
// signatures, where it stands), what its answers cost so far, the payer's latest voucher, and every
// answer with its signed receipt. Everything a restarted provider needs to keep serving, answer a
// payer asking for a cut-short answer, and close every lease on chain with its latest voucher.
import type { Hex } from "viem";
import { Lease, InferenceResponse, SignedReceipt, parse, type Lease as LeaseT, type Receipt, wireJson } from "@lily/protocol";
import { transaction, type Database } from "@lily/node-kit";
import type { LeaseState } from "@lily/api";

/** Where a lease's collateral is: not locked (never opened), locked on chain, back with the provider, or slashed. */
export type CollateralState = "none" | "locked" | "released" | "slashed";

/** Whether a lease has something left to do: not yet open, open, or ended with its collateral still locked. */
export const isFollowed = (l: Pick<LocalLease, "state" | "collateral">): boolean => l.state === "proposed" || l.state === "open" || l.collateral === "locked";

export interface LocalLease {
  id: Hex;
  lease: LeaseT;
  payerSignature: Hex;
  providerSignature: Hex;
  /** proposed (countersigned) → open (on chain) → closed (paid) | expired (never opened, or its claim window missed). */
  state: Exclude<LeaseState, "slashed">;
  collateral: CollateralState;
  /** What the answers given cost at the lease's prices. */
  owed: bigint;
  /** Answers given. */
  requests: bigint;
  /** The payer's latest voucher (amount zero and no signature before the first). */
  voucher: { amount: bigint; requests: bigint; signature?: Hex };
  closeTx?: Hex;
  /** Why it last changed, for people. */
  note?: string;
}

export interface StoredAnswer {
  seq: bigint;
  ticket: string;
  response: InferenceResponse;
  receipt: SignedReceipt;
  cost: bigint;
}

interface LeaseRow {
  id: string;
  terms: string;
  payer_signature: string;
  provider_signature: string;
  state: string;
  collateral: string;
  owed: string;
  requests: number;
  voucher_amount: string;
  voucher_requests: number;
  voucher_signature: string | null;
  close_tx: string | null;
  note: string | null;
}

interface AnswerRow {
  seq: number;
  ticket: string;
  response: string;
  receipt: string;
  signature: string;
  cost: string;
}

export class LeaseBook {
  private readonly db: Database;

  /** `db` has db.ts's migrations applied (they include leaseMigrations.ts). */
  constructor(db: Database) {
    this.db = db;
  }

  get(id: Hex): LocalLease | undefined {
    const row = this.db.prepare("SELECT * FROM leases WHERE id = ?").get(id.toLowerCase()) as LeaseRow | undefined;
    return row && fromRow(row);
  }

  /** Record a lease just countersigned; a lease already known is left as it is. */
  propose(l: Pick<LocalLease, "id" | "lease" | "payerSignature" | "providerSignature">): void {
    this.db
      .prepare(
        `INSERT OR IGNORE INTO leases (id, terms, payer_signature, provider_signature, state, updated_at)
         VALUES (?, ?, ?, ?, 'proposed', ?)`,
      )
      .run(l.id.toLowerCase(), wireJson(l.lease), l.payerSignature, l.providerSignature, Date.now());
  }

  /** Move a lease to a new state (and its collateral), with a note saying why. */
  setState(id: Hex, change: { state?: LocalLease["state"]; collateral?: CollateralState; closeTx?: Hex; note?: string }): void {
    this.db
      .prepare(
        `UPDATE leases SET state = COALESCE(?, state), collateral = COALESCE(?, collateral), close_tx = COALESCE(?, close_tx),
           note = COALESCE(?, note), updated_at = ? WHERE id = ?`,
      )
      .run(change.state ?? null, change.collateral ?? null, change.closeTx ?? null, change.note ?? null, Date.now(), id.toLowerCase());
  }

  /** Store a newer voucher (the caller checked it is newer and signed by the payer). */
  putVoucher(id: Hex, v: { amount: bigint; requests: bigint; signature: Hex }): void {
    this.db
      .prepare("UPDATE leases SET voucher_amount = ?, voucher_requests = ?, voucher_signature = ?, updated_at = ? WHERE id = ?")
      .run(v.amount.toString(), Number(v.requests), v.signature, Date.now(), id.toLowerCase());
  }

  /** Record an answer and its receipt, and add its cost to what the lease owes: one transaction. */
  putAnswer(id: Hex, a: { ticket: string; response: InferenceResponse; receipt: Receipt; signature: Hex; cost: bigint }): void {
    const key = id.toLowerCase();
    transaction(this.db, () => {
      this.db
        .prepare(
          `INSERT INTO lease_answers (lease, seq, ticket, request_digest, response, receipt, signature, input_tokens, output_tokens, cost, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          key,
          Number(a.receipt.seq),
          a.ticket,
          a.receipt.request,
          JSON.stringify(a.response),
          wireJson(a.receipt),
          a.signature,
          a.receipt.inputTokens,
          a.receipt.outputTokens,
          a.cost.toString(),
          Date.now(),
        );
      const row = this.db.prepare("SELECT owed FROM leases WHERE id = ?").get(key) as { owed: string };
      this.db
        .prepare("UPDATE leases SET owed = ?, requests = requests + 1, updated_at = ? WHERE id = ?")
        .run((BigInt(row.owed) + a.cost).toString(), Date.now(), key);
    });
  }

  /** The answer given under `ticket`, if any. */
  answer(id: Hex, ticket: string): StoredAnswer | undefined {
    const row = this.db.prepare("SELECT * FROM lease_answers WHERE lease = ? AND ticket = ?").get(id.toLowerCase(), ticket) as AnswerRow | undefined;
    return row && answerFromRow(row);
  }

  /** Every answer given under a lease, by seq. */
  answers(id: Hex): StoredAnswer[] {
    return (this.db.prepare("SELECT * FROM lease_answers WHERE lease = ? ORDER BY seq").all(id.toLowerCase()) as unknown as AnswerRow[]).map(answerFromRow);
  }

  /** The highest receipt seq given under a lease (0 before the first). */
  lastSeq(id: Hex): bigint {
    const row = this.db.prepare("SELECT MAX(seq) AS seq FROM lease_answers WHERE lease = ?").get(id.toLowerCase()) as { seq: number | null };
    return BigInt(row.seq ?? 0);
  }

  /** Leases with something left to do (see isFollowed). */
  followed(): LocalLease[] {
    const rows = this.db
      .prepare("SELECT * FROM leases WHERE state IN ('proposed', 'open') OR (state IN ('closed', 'expired') AND collateral = 'locked')")
      .all() as unknown as LeaseRow[];
    return rows.map(fromRow);
  }

  /**
   * Follow again the closed leases no longer followed whose claim window (ending `claimWindowSeconds`
   * after expiry) is open at `now` (unix seconds): the chain lost blocks, maybe the one with our
   * close, and until the window ends a lost close can be sent again. Their collateral goes back to
   * `locked` until the next pass reads the chain's word. Returns their ids.
   */
  followAgain(now: number, claimWindowSeconds: number): Hex[] {
    const rows = this.db
      .prepare(
        `UPDATE leases SET collateral = 'locked', note = 'the chain node lost blocks: checking the close again', updated_at = ?
         WHERE state = 'closed' AND collateral IN ('released', 'slashed') AND CAST(json_extract(terms, '$.expiresAt') AS INTEGER) + ? >= ?
         RETURNING id`,
      )
      .all(Date.now(), claimWindowSeconds, now) as unknown as { id: Hex }[];
    return rows.map((r) => r.id);
  }

  all(): LocalLease[] {
    return (this.db.prepare("SELECT * FROM leases ORDER BY updated_at").all() as unknown as LeaseRow[]).map(fromRow);
  }
}

function fromRow(r: LeaseRow): LocalLease {
  return {
    id: r.id as Hex,
    lease: parse(Lease, JSON.parse(r.terms), "stored lease"),
    payerSignature: r.payer_signature as Hex,
    providerSignature: r.provider_signature as Hex,
    state: r.state as LocalLease["state"],
    collateral: r.collateral as CollateralState,
    owed: BigInt(r.owed),
    requests: BigInt(r.requests),
    voucher: {
      amount: BigInt(r.voucher_amount),
      requests: BigInt(r.voucher_requests),
      ...(r.voucher_signature !== null && { signature: r.voucher_signature as Hex }),
    },
    ...(r.close_tx !== null && { closeTx: r.close_tx as Hex }),
    ...(r.note !== null && { note: r.note }),
  };
}

function answerFromRow(r: AnswerRow): StoredAnswer {
  const receipt = parse(SignedReceipt, { receipt: JSON.parse(r.receipt), signature: r.signature }, "stored receipt");
  return {
    seq: receipt.receipt.seq,
    ticket: r.ticket,
    response: parse(InferenceResponse, JSON.parse(r.response), "stored answer"),
    receipt,
    cost: BigInt(r.cost),
  };
}
