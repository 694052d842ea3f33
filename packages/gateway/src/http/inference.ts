// POST /v1/chat/completions and /v1/completions: OpenAI's API over the network's leases. Each
// request is checked (key, rate, body, model, size) before anything is paid; its tokens stream to
// the client as the provider produces them; its answer carries the provider's receipt (headers,
// and a `lily` field on the body or the last chunk) and is recorded for audit.
import { randomBytes } from "node:crypto";
import {
  ChatCompletionRequest,
  CompletionRequest,
  chatChunk,
  chatCompletion,
  completion,
  completionChunk,
  openSse,
  usageChunk,
  usageOf,
  writeSse,
  type AnswerMeta,
} from "@lily/api";
import { answerCost, LilyError, toWire, type InferenceRequest } from "@lily/protocol";
import { answer, estimateInputTokens, type Answered } from "../leases/answer.ts";
import type { GatewayContext } from "../context.ts";
import type { ServedModel } from "../models.ts";
import { chatToInference, completionToInference } from "./toInference.ts";
import { jsonBody, sendJson, type RequestContext } from "./router.ts";
import type { Caller, SpendHold } from "./caller.ts";

/** No tokenizer turns more than this many bytes into one token: a prompt longer than context × this cannot fit. */
const MAX_BYTES_PER_TOKEN = 32;

type Kind = "chat" | "completion";

export function inferenceHandler(gw: GatewayContext, kind: Kind) {
  return async (ctx: RequestContext): Promise<void> => {
    const caller = gw.auth.apiCaller(ctx.req);
    const body = kind === "chat" ? await jsonBody(ctx, ChatCompletionRequest) : await jsonBody(ctx, CompletionRequest);
    const model = await gw.models.resolve(body.model);
    const limits = { cid: model.cid, contextLength: model.manifest.contextLength, defaultMaxTokens: gw.opts.defaultMaxTokens };
    const request = kind === "chat" ? chatToInference(body as ChatCompletionRequest, limits) : completionToInference(body as CompletionRequest, limits);
    // REJECT: a prompt that cannot fit the model's context is refused here, before any lease or payment
    const bytes = estimateInputTokens(request);
    if (bytes > model.manifest.contextLength * MAX_BYTES_PER_TOKEN) {
      throw new LilyError({
        code: "INVALID_INPUT",
        field: kind === "chat" ? "messages" : "prompt",
        message: `This model's maximum context length is ${model.manifest.contextLength} tokens; your prompt is far longer.`,
        details: { contextLengthExceeded: true },
      });
    }
    const meta: AnswerMeta = {
      id: `${kind === "chat" ? "chatcmpl" : "cmpl"}-${randomBytes(12).toString("base64url")}`,
      model: model.ref,
      created: Math.floor(Date.now() / 1000),
    };
    const receiptUrl = `${gw.publicUrl()}/v1/receipts/${meta.id}`;
    let hold: SpendHold | undefined;
    const beforeRequest = (prices: Parameters<typeof answerCost>[0]) => {
      hold?.settle(0n);
      hold = gw.auth.hold(caller, answerCost(prices, estimateInputTokens(request), request.maxTokens));
    };
    let answered: Answered | undefined;
    try {
      if (body.stream)
        answered = await streamAnswer(gw, ctx, kind, meta, request, model, caller, beforeRequest, receiptUrl, body.stream_options?.include_usage === true);
      else {
        let text = "";
        answered = await answer(gw.leases, model, request, { signal: ctx.signal, beforeRequest, onText: (t) => (text += t) });
        const recorded = await gw.recordAnswer(meta, caller, request, answered);
        const usage = usageOf(answered.response.inputTokens, answered.response.outputTokens);
        const lily = lilyField(answered, recorded, receiptUrl);
        const out =
          kind === "chat"
            ? chatCompletion(meta, answered.response.text, answered.response.finishReason, usage, { lily })
            : completion(meta, answered.response.text, answered.response.finishReason, usage, { lily });
        sendJson(ctx.res, 200, out, receiptHeaders(answered, recorded, receiptUrl));
      }
    } finally {
      hold?.settle(answered?.cost ?? 0n);
    }
  };
}

async function streamAnswer(
  gw: GatewayContext,
  ctx: RequestContext,
  kind: Kind,
  meta: AnswerMeta,
  request: InferenceRequest,
  model: ServedModel,
  caller: Caller,
  beforeRequest: (prices: Parameters<typeof answerCost>[0]) => void,
  receiptUrl: string,
  includeUsage: boolean,
): Promise<Answered> {
  let opened = false;
  const open = () => {
    if (opened) return;
    opened = true;
    // The receipt's link is known before the answer: it is sent with the first byte.
    openSse(ctx.res, { "x-lily-request-id": meta.id, "x-lily-receipt-url": receiptUrl });
    if (kind === "chat") send(chatChunk(meta, { role: "assistant", content: "" }, null));
  };
  const send = (chunk: unknown) => {
    if (!ctx.res.destroyed) writeSse(ctx.res, { data: JSON.stringify(chunk) });
  };
  const answered = await answer(gw.leases, model, request, {
    signal: ctx.signal,
    beforeRequest,
    // The stream opens with the first token: a refusal before it (a prompt past the context, no
    // provider) is still an ordinary HTTP error with its status.
    onText: (text) => {
      open();
      send(kind === "chat" ? chatChunk(meta, { content: text }, null) : completionChunk(meta, text, null));
    },
  });
  open();
  const recorded = await gw.recordAnswer(meta, caller, request, answered);
  if (ctx.res.destroyed) return answered;
  const lily = lilyField(answered, recorded, receiptUrl);
  send(kind === "chat" ? chatChunk(meta, {}, answered.response.finishReason, { lily }) : completionChunk(meta, "", answered.response.finishReason, { lily }));
  if (includeUsage)
    send(
      usageChunk(meta, kind === "chat" ? "chat.completion.chunk" : "text_completion", usageOf(answered.response.inputTokens, answered.response.outputTokens)),
    );
  ctx.res.write("data: [DONE]\n\n");
  ctx.res.end();
  return answered;
}

/** The receipt as the body carries it: enough to verify the answer without asking anyone. */
function lilyField(a: Answered, recordCid: string, receiptUrl: string) {
  return toWire({ lease: a.lease.id, provider: a.lease.provider, receipt: a.receipt, record: recordCid, receipt_url: receiptUrl, cost: a.cost });
}

function receiptHeaders(a: Answered, recordCid: string, receiptUrl: string): Record<string, string> {
  const r = a.receipt.receipt;
  return {
    "x-lily-lease": a.lease.id,
    "x-lily-provider": a.lease.provider,
    "x-lily-receipt-seq": r.seq.toString(),
    "x-lily-request-digest": r.request,
    "x-lily-response-digest": r.response,
    "x-lily-receipt-signature": a.receipt.signature,
    "x-lily-record": recordCid,
    "x-lily-receipt-url": receiptUrl,
  };
}
