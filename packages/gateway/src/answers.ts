// Every answer the gateway gives is kept: its signed record (the lease, the request, the answer
// and the provider's receipt, protocol/answerRecord.ts) goes into the content-addressed store, its
// row into the database with what it cost, and, when the lease is audited and the answer drawn
// (temperature 0 only: a re-run must be able to reproduce it), it is sent to the lease's mediator.
import { randomInt } from "node:crypto";
import { cidForRecord, toWire, type AnswerRecord, type InferenceRequest, wireJson } from "@lily/protocol";
import type { AnswerMeta } from "@lily/api";
import type { Database, Logger } from "@lily/node-kit";
import type { StoreClient } from "@lily/store";
import type { Address } from "viem";
import type { Answered } from "./leases/answer.ts";
import type { Caller } from "./http/caller.ts";

export interface AnswerBookDeps {
  db: Database;
  store: StoreClient;
  log: Logger;
  chainId: number;
  leases: Address;
  /** The mediator's URL, when the gateway has one: audits go there. */
  mediatorUrl?: string;
  /** Told of a provider an audit proved wrong, so it is sent no more requests. */
  onWrongAnswer?: (provider: string) => void;
}

/** Whether to audit an answer: temperature 0, and drawn with the lease's audit rate. */
export function drawnForAudit(auditBps: number, temperature: number, draw: number = randomInt(0, 10_000)): boolean {
  return auditBps > 0 && temperature === 0 && draw < auditBps;
}

export function createAnswerBook(deps: AnswerBookDeps) {
  const { db, store, log } = deps;
  const storing = new Map<string, Promise<void>>();
  return {
    /** Wait until the record under `cid` is in the store, if it is still on its way. */
    stored: (cid: string): Promise<void> => storing.get(cid) ?? Promise.resolve(),

    async record(meta: AnswerMeta, caller: Caller, request: InferenceRequest, a: Answered): Promise<string> {
      const record: AnswerRecord = { chainId: deps.chainId, leases: deps.leases, lease: a.lease.terms, request, response: a.response, receipt: a.receipt };
      // The CID is known without the store; the record is stored off the answer's path, and a
      // receipt asked for before it lands waits for it.
      const { cid, bytes } = cidForRecord(toWire(record));
      const put = store
        .putRecordBytes(bytes)
        .then((stored) => {
          if (stored !== cid) throw new Error(`the store put answer ${meta.id}'s record under ${stored}, not ${cid}`);
        })
        .catch((e: unknown) => log.error("answer record not stored", { answer: meta.id, error: e }))
        .finally(() => storing.delete(cid));
      storing.set(cid, put);
      const audit = deps.mediatorUrl && drawnForAudit(a.lease.terms.auditBps, request.temperature) ? "sent" : null;
      db.prepare(
        `INSERT INTO answers (id, owner, key_id, model, lease, seq, record, cost, input_tokens, output_tokens, finish, audit, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        meta.id,
        caller.owner,
        caller.keyId ?? null,
        meta.model,
        a.lease.id,
        Number(a.receipt.receipt.seq),
        cid,
        a.cost.toString(),
        a.response.inputTokens,
        a.response.outputTokens,
        a.response.finishReason,
        audit,
        meta.created,
      );
      if (audit) void this.audit(meta.id, record);
      return cid;
    },

    /** Send an answer to the lease's mediator and keep its verdict. */
    async audit(id: string, record: AnswerRecord): Promise<void> {
      try {
        const res = await fetch(`${deps.mediatorUrl}/v1/audits`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: wireJson({ lease: record.lease, request: record.request, response: record.response, receipt: record.receipt }),
        });
        const body = (await res.json()) as { verdict?: string; error?: { message?: string } };
        const verdict = res.ok && (body.verdict === "correct" || body.verdict === "wrong") ? body.verdict : "failed";
        db.prepare("UPDATE answers SET audit = ? WHERE id = ?").run(verdict, id);
        if (verdict === "wrong") deps.onWrongAnswer?.(record.lease.provider);
        log.info("answer audited", { answer: id, verdict, error: body.error?.message });
      } catch (e) {
        db.prepare("UPDATE answers SET audit = 'failed' WHERE id = ?").run(id);
        log.warn("audit not delivered", { answer: id, error: e instanceof Error ? e.message : String(e) });
      }
    },

    /** One answer's row, for its owner. */
    get(id: string): AnswerRow | undefined {
      return db.prepare("SELECT * FROM answers WHERE id = ?").get(id) as unknown as AnswerRow | undefined;
    },

    /** What an owner spent, per model: through one of its keys when `keyId` is given, else through all. */
    usage(owner: Address, keyId?: string): { model: string; requests: number; input_tokens: number; output_tokens: number; cost: string }[] {
      const rows = (keyId
        ? db.prepare("SELECT model, cost, input_tokens, output_tokens FROM answers WHERE owner = ? AND key_id = ?").all(owner, keyId)
        : db.prepare("SELECT model, cost, input_tokens, output_tokens FROM answers WHERE owner = ?").all(owner)) as unknown as AnswerRow[];
      const by = new Map<string, { model: string; requests: number; input_tokens: number; output_tokens: number; cost: bigint }>();
      for (const r of rows) {
        const u = by.get(r.model) ?? { model: r.model, requests: 0, input_tokens: 0, output_tokens: 0, cost: 0n };
        u.requests++;
        u.input_tokens += r.input_tokens;
        u.output_tokens += r.output_tokens;
        u.cost += BigInt(r.cost);
        by.set(r.model, u);
      }
      return [...by.values()].map((u) => ({ ...u, cost: u.cost.toString() }));
    },
  };
}

export type AnswerBook = ReturnType<typeof createAnswerBook>;

export interface AnswerRow {
  id: string;
  owner: string;
  key_id: string | null;
  model: string;
  lease: string;
  seq: number;
  record: string;
  cost: string;
  input_tokens: number;
  output_tokens: number;
  finish: string;
  audit: string | null;
  created_at: number;
}
