// Embeddings through the network: like an answer, under a lease, paid by voucher once the
// provider's receipt is checked against the texts sent and the vectors received.
import { LilyError, answerCost, embeddingDigests } from "@lily/protocol";
import type { LeaseManager, ModelRef } from "./leaseManager.ts";
import { leaseClient } from "./providerClient.ts";
import type { SpendHold } from "../http/caller.ts";

export interface Embedded {
  vectors: number[][];
  inputTokens: number;
  lease: string;
  receiptSignature: string;
  cost: bigint;
}

export async function embed(leases: LeaseManager, model: ModelRef, input: string[], hold: (max: bigint) => SpendHold): Promise<Embedded> {
  // Like prompts: at most one token per UTF-8 byte, plus a few per text.
  const bound = input.reduce((n, t) => n + Buffer.byteLength(t, "utf8") + 4, 0);
  const taken = await leases.take(model, (prices) => answerCost(prices, bound, 0));
  const spend = hold(answerCost(taken.lease.terms, bound, 0));
  let cost = 0n;
  try {
    const body = { model: model.cid, input };
    const out = await leaseClient(taken.lease.endpoint).embed({ params: { id: taken.lease.id }, body });
    if (out.vectors.length !== input.length)
      throw new LilyError({ code: "INTERNAL", message: `provider ${taken.lease.provider} sent ${out.vectors.length} vectors for ${input.length} texts` });
    cost = await leases.pay(taken.lease, { ...embeddingDigests(body, out), inputTokens: out.inputTokens, outputTokens: 0 }, out.receipt);
    return { vectors: out.vectors, inputTokens: out.inputTokens, lease: taken.lease.id, receiptSignature: out.receipt.signature, cost };
  } finally {
    spend.settle(cost);
    taken.release();
  }
}
