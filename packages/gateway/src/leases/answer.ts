// One answer through the network: take a lease, stream the provider's tokens to `onText` as they
// come, check the receipt and pay it by voucher. A provider that fails before its first token is
// passed over and the request goes to another; one that fails mid-answer ends the answer with its
// error (the text already sent cannot be taken back), and the next request goes elsewhere. When
// the client goes away, the provider is told (the stream closes) and the answer it cut short is
// fetched by its ticket and paid for exactly the tokens produced.
import { randomBytes } from "node:crypto";
import { answerCost, LilyError, type InferenceRequest, type InferenceResponse, type SignedReceipt } from "@lily/protocol";
import type { HeldLease } from "./heldLease.ts";
import { expectedFor, type LeaseManager, type ModelRef } from "./leaseManager.ts";
import { leaseClient, streamInfer } from "./providerClient.ts";

export interface Answered {
  response: InferenceResponse;
  receipt: SignedReceipt;
  lease: HeldLease;
  cost: bigint;
}

export interface AnswerOptions {
  onText?: (text: string) => void;
  /** Aborted when the client goes away. */
  signal?: AbortSignal;
  /**
   * Called with the lease's prices once a lease is taken, before the provider is asked: where the
   * caller holds the request's worst-case cost against its spending limit (and may refuse).
   */
  beforeRequest?: (prices: Parameters<typeof answerCost>[0]) => void;
  /** How many providers to try before giving up (only while nothing has been streamed). */
  attempts?: number;
}

/** Codes that say the request itself is wrong: another provider would refuse it too. */
const REQUEST_FAULTS = new Set(["INVALID_INPUT", "UNKNOWN_MODULE", "QUOTA_EXCEEDED"]);

export async function answer(leases: LeaseManager, model: ModelRef, request: InferenceRequest, opts: AnswerOptions = {}): Promise<Answered> {
  const tried = new Set<string>();
  const worstCase = (prices: Parameters<typeof answerCost>[0]) => answerCost(prices, estimateInputTokens(request), request.maxTokens);
  let lastError: unknown;
  for (let attempt = 0; attempt < (opts.attempts ?? 3); attempt++) {
    const taken = await leases.take(model, worstCase, tried);
    const lease = taken.lease;
    const ticket = randomBytes(12).toString("base64url");
    let streamed = false;
    try {
      opts.beforeRequest?.(lease.terms);
      for await (const ev of streamInfer(lease.endpoint, lease.id, { request, ticket }, opts.signal)) {
        if (ev.type === "token") {
          streamed = true;
          opts.onText?.(ev.text);
        } else if (ev.type === "done") {
          const cost = await leases.pay(lease, expectedFor(request, ev.response), ev.receipt);
          return { response: ev.response, receipt: ev.receipt, lease, cost };
        } else {
          throw new LilyError({ code: ev.error.code as never, field: ev.error.field, message: `provider ${lease.provider}: ${ev.error.message}` });
        }
      }
      throw new LilyError({ code: "UNREACHABLE", message: `provider ${lease.provider} ended the stream without an answer` });
    } catch (e) {
      if (opts.signal?.aborted) return await settleAborted(leases, lease, request, ticket, e);
      if (e instanceof LilyError && REQUEST_FAULTS.has(e.code)) throw e;
      lastError = e;
      tried.add(lease.provider.toLowerCase());
      leases.markDown(lease.provider, e);
      if (streamed)
        throw e instanceof LilyError ? e : new LilyError({ code: "UNREACHABLE", message: `provider ${lease.provider} failed mid-answer`, cause: e });
    } finally {
      taken.release();
    }
  }
  throw lastError instanceof LilyError ? lastError : new LilyError({ code: "UNREACHABLE", message: "no provider could answer", cause: lastError });
}

/** The client left: fetch what the provider produced before it stopped, and pay for exactly that. */
async function settleAborted(leases: LeaseManager, lease: HeldLease, request: InferenceRequest, ticket: string, cause: unknown): Promise<Answered> {
  const client = leaseClient(lease.endpoint);
  // The provider records the cut-short answer as it notices the closed stream: ask a few times.
  for (let i = 0; i < 20; i++) {
    try {
      const got = await client.getAnswer({ params: { id: lease.id, ticket } });
      const cost = await leases.pay(lease, expectedFor(request, got.response), got.receipt);
      return { response: got.response, receipt: got.receipt, lease, cost };
    } catch (e) {
      if (!(e instanceof LilyError && e.code === "NOT_FOUND")) throw e;
      await new Promise((r) => setTimeout(r, 50 * (i + 1)));
    }
  }
  throw new LilyError({ code: "UNREACHABLE", message: `provider ${lease.provider} kept no answer for an aborted request`, cause });
}

/**
 * An upper bound on a request's prompt tokens without its tokenizer: every byte-fallback tokenizer
 * needs at most one token per UTF-8 byte, plus a few per message for the chat template. The
 * provider counts exactly and refuses a prompt past the context before anything is paid.
 */
export function estimateInputTokens(request: InferenceRequest): number {
  const text = request.kind === "chat" ? request.messages.map((m) => m.content).join("") : request.prompt;
  const perMessage = request.kind === "chat" ? request.messages.length * 8 : 0;
  return Buffer.byteLength(text, "utf8") + perMessage + 8;
}
