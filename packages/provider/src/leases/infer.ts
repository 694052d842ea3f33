// One answer under a lease, streamed: the request is checked (checkInference) once its prompt is
// counted, its worst-case cost is held against the budget while it runs, and every piece of text
// goes out as a `token` event the moment the model produces it. At the end the provider signs a
// receipt over the request's and the answer's digests and token counts, records it (the lease now
// owes the answer's cost) and sends `done`. A client that goes away aborts the generation: the
// answer ends with the tokens produced, is recorded and charged for those alone, and is kept under
// the payer's ticket (getAnswer) so it can be paid.
import type http from "node:http";
import type { Hex } from "viem";
import { INFER_PATH, errorEvent, openSse, writeSse, type InferBody, type InferEvent } from "@lily/api";
import {
  LilyError,
  answerCost,
  requestDigest,
  responseDigest,
  signRecord,
  type InferenceResponse,
  type Receipt,
  type SignedReceipt,
  wireJson,
} from "@lily/protocol";
import { checkInference } from "./checkInference.ts";
import { nextSeq, seconds, type LeaseContext } from "./leaseContext.ts";
import { knownLease, openLease } from "./leaseQueries.ts";

export { INFER_PATH };

/** Serve one `infer` request. Refusals before the stream opens throw (the server answers them as JSON errors). */
export async function serveInfer(ctx: LeaseContext, id: Hex, body: InferBody, res: http.ServerResponse): Promise<void> {
  const key = id.toLowerCase() as Hex;
  const { request, ticket } = body;
  const opened = await openLease(ctx, key);
  const model = ctx.models.get(opened.lease.model);
  // REJECT: a lease on a model this provider no longer serves
  if (!model) throw new LilyError({ code: "UNKNOWN_MODULE", field: "lease.model", message: `lease.model: ${opened.lease.model} is no longer served here` });
  const inputTokens = await model.runner.countInputTokens(request);
  // Read again after the awaits: answers and vouchers may have come in meanwhile.
  const local = knownLease(ctx, key);
  const flight = ctx.inFlight.get(key) ?? { reserved: 0n, tickets: new Set<string>() };
  // REJECT: a ticket names one answer: one already given or running is not run again
  if (flight.tickets.has(ticket) || ctx.book.answer(key, ticket))
    throw new LilyError({ code: "CONFLICT", field: "ticket", message: `ticket: ${ticket} was already used under this lease`, hint: "fetch it with getAnswer" });
  const { worstCase } = checkInference({
    lease: local,
    request,
    inputTokens,
    contextLength: model.runner.info().contextLength,
    reserved: flight.reserved,
    creditAnswers: ctx.creditAnswers,
    now: seconds(ctx),
  });
  // Held from here (no await since the check) until the answer is recorded.
  flight.reserved += worstCase;
  flight.tickets.add(ticket);
  ctx.inFlight.set(key, flight);
  const release = () => {
    flight.reserved -= worstCase;
    flight.tickets.delete(ticket);
    if (flight.tickets.size === 0) ctx.inFlight.delete(key);
  };

  const abort = new AbortController();
  const live = () => !abort.signal.aborted && !res.destroyed && !res.writableEnded;
  const send = (ev: InferEvent) => {
    if (!live()) return;
    const { type, ...data } = ev;
    writeSse(res, { event: type, data: wireJson(data) });
  };
  // The client went away before the answer ended: stop generating.
  res.on("close", () => {
    if (!res.writableFinished) abort.abort();
  });
  openSse(res, { "x-lily-lease": key });
  try {
    let response: InferenceResponse;
    try {
      response = await model.runner.generate(request, { signal: abort.signal, onText: (text) => send({ type: "token", text }) });
    } catch (e) {
      const err = e instanceof LilyError ? e : new LilyError({ code: "EXECUTION_FAILED", message: `the model failed: ${(e as Error).message}`, cause: e });
      ctx.logger.warn("answer failed", { lease: key, ticket, err: e });
      send(errorEvent(err));
      return;
    }
    const receipt = await signReceipt(ctx, key, request, response);
    const cost = answerCost(local.lease, response.inputTokens, response.outputTokens);
    ctx.book.putAnswer(key, { ticket, response, receipt: receipt.receipt, signature: receipt.signature, cost });
    ctx.logger.debug("answered", { lease: key, seq: receipt.receipt.seq, finish: response.finishReason, out: response.outputTokens, cost });
    send({ type: "done", response, receipt });
  } finally {
    release();
    if (!res.writableEnded) res.end();
  }
}

async function signReceipt(ctx: LeaseContext, lease: Hex, request: InferBody["request"], response: InferenceResponse): Promise<SignedReceipt> {
  const receipt: Receipt = {
    lease,
    provider: ctx.account.address,
    seq: nextSeq(ctx, lease),
    request: requestDigest(request),
    response: responseDigest(response),
    inputTokens: response.inputTokens,
    outputTokens: response.outputTokens,
  };
  return { receipt, signature: await signRecord(ctx.account, ctx.domain, "Receipt", receipt) };
}
