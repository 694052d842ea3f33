// POST /v1/embeddings: vectors for texts from a model that has them, under a lease like any answer.
// The provider's receipt covers the input texts and the vectors returned.
import { embeddingList, EmbeddingRequest } from "@lily/api";
import { LilyError } from "@lily/protocol";
import type { GatewayContext } from "../context.ts";
import { jsonBody, sendJson, type RequestContext } from "./router.ts";

export function embeddingsHandler(gw: GatewayContext) {
  return async (ctx: RequestContext): Promise<void> => {
    const caller = gw.auth.apiCaller(ctx.req);
    const body = await jsonBody(ctx, EmbeddingRequest);
    const model = await gw.models.resolve(body.model);
    // REJECT: only a model that declares embeddings serves them
    if (!model.manifest.embeddings) {
      throw new LilyError({ code: "INVALID_INPUT", field: "model", message: `The model \`${model.ref}\` does not support embeddings` });
    }
    const input = typeof body.input === "string" ? [body.input] : body.input;
    const got = await gw.embed(model, input, caller);
    sendJson(ctx.res, 200, embeddingList(model.ref, got.vectors, got.inputTokens, body.encoding_format ?? "float"), {
      "x-lily-lease": got.lease,
      "x-lily-receipt-signature": got.receiptSignature,
    });
  };
}
