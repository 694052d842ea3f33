// Embeddings under a lease: vectors for texts, paid like an answer (prompt tokens at the lease's
// input price, no output) and carried with a receipt. The receipt's `request` is the digest of the
// record {model, input} and its `response` the digest of {vectors, inputTokens}
// (protocol's embeddingDigests), so a payer checks it the same way as a text answer's.
import type { Hex } from "viem";
import { LilyError, answerCost, embeddingDigests, signRecord, type Receipt, type SignedReceipt } from "@lily/protocol";
import { checkCredit, checkServing } from "./checkInference.ts";
import { nextSeq, seconds, type LeaseContext } from "./leaseContext.ts";
import { knownLease, openLease } from "./leaseQueries.ts";

export interface EmbedBody {
  model: string;
  input: string[];
}

export async function embedUnderLease(
  ctx: LeaseContext,
  id: Hex,
  body: EmbedBody,
): Promise<{ vectors: number[][]; inputTokens: number; receipt: SignedReceipt }> {
  const key = id.toLowerCase() as Hex;
  const opened = await openLease(ctx, key);
  const model = ctx.models.get(opened.lease.model);
  // REJECT: a model this provider serves with embeddings
  if (!model?.runner.info().embeddings)
    throw new LilyError({ code: "EXECUTOR_UNAVAILABLE", field: "model", message: `model: ${opened.lease.model} has no embeddings here` });
  // An upper bound on the tokens (one per UTF-8 byte, plus a few per text), checked like an answer's worst case.
  const bound = body.input.reduce((n, t) => n + Buffer.byteLength(t, "utf8") + 4, 0);
  const local = knownLease(ctx, key);
  const flight = ctx.inFlight.get(key);
  checkServing(local, seconds(ctx));
  checkCredit(local, answerCost(local.lease, bound, 0), flight?.reserved ?? 0n, ctx.creditAnswers);
  const out = await model.runner.embed(body.input);
  const digests = embeddingDigests(body, out);
  const receipt: Receipt = {
    lease: key,
    provider: ctx.account.address,
    seq: nextSeq(ctx, key),
    ...digests,
    inputTokens: out.inputTokens,
    outputTokens: 0,
  };
  const signature = await signRecord(ctx.account, ctx.domain, "Receipt", receipt);
  const cost = answerCost(local.lease, out.inputTokens, 0);
  // Kept under a ticket of its own (embeddings have none from the payer): the receipt's seq.
  ctx.book.putAnswer(key, {
    ticket: `embed-${receipt.seq}`,
    response: { text: "", finishReason: "stop", inputTokens: out.inputTokens, outputTokens: 0 },
    receipt,
    signature,
    cost,
  });
  return { ...out, receipt: { receipt, signature } };
}
