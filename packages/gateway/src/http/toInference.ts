// OpenAI request bodies turned into Lily's canonical InferenceRequest (protocol/inference.ts), the
// record the provider runs, signs the digest of, and an audit re-runs. Every default is made
// explicit here (temperature, top_p, max_tokens, and a seed when the client gave none) so the
// record alone determines the answer at temperature 0.
import { randomInt } from "node:crypto";
import { messageText, DEFAULT_COMPLETION_MAX_TOKENS, type ChatCompletionRequest, type CompletionRequest } from "@lily/api";
import { LilyError, type InferenceRequest } from "@lily/protocol";

export interface ModelLimits {
  cid: string;
  contextLength: number;
  /** max_tokens for a chat request that gives none. */
  defaultMaxTokens: number;
}

function sampling(body: ChatCompletionRequest | CompletionRequest, model: ModelLimits, maxTokens: number) {
  // REJECT: an answer cannot be longer than the model's whole context
  if (maxTokens > model.contextLength) {
    throw new LilyError({
      code: "INVALID_INPUT",
      field: "max_tokens",
      message: `max_tokens: ${maxTokens} is more than the model's context of ${model.contextLength} tokens`,
      details: { contextLengthExceeded: true },
    });
  }
  const stop = body.stop == null ? [] : typeof body.stop === "string" ? [body.stop] : body.stop;
  return {
    model: model.cid,
    maxTokens,
    temperature: body.temperature ?? 1,
    topP: body.top_p ?? 1,
    seed: body.seed ?? randomInt(0, 2 ** 32 - 1),
    stop,
  };
}

export function chatToInference(body: ChatCompletionRequest, model: ModelLimits): InferenceRequest {
  const maxTokens = body.max_completion_tokens ?? body.max_tokens ?? Math.min(model.defaultMaxTokens, model.contextLength);
  return {
    kind: "chat",
    messages: body.messages.map((m) => ({ role: m.role, content: messageText(m.content) })),
    ...sampling(body, model, maxTokens),
  };
}

export function completionToInference(body: CompletionRequest, model: ModelLimits): InferenceRequest {
  const prompt = typeof body.prompt === "string" ? body.prompt : body.prompt[0]!;
  return { kind: "completion", prompt, ...sampling(body, model, body.max_tokens ?? DEFAULT_COMPLETION_MAX_TOKENS) };
}
