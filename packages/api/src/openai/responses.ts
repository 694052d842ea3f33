// OpenAI's response shapes, built from Lily's InferenceResponse: whole answers, streamed chunks
// (the `chat.completion.chunk` and `text_completion` objects), embeddings, model lists, and the
// error body. The official `openai` client reads exactly these.
import type { FinishReason } from "@lily/protocol";

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export function usageOf(inputTokens: number, outputTokens: number): Usage {
  return { prompt_tokens: inputTokens, completion_tokens: outputTokens, total_tokens: inputTokens + outputTokens };
}

/** OpenAI has no "aborted": an answer cut short by its client is reported as stopped. */
export function openAIFinish(reason: FinishReason): "stop" | "length" {
  return reason === "length" ? "length" : "stop";
}

export interface AnswerMeta {
  id: string;
  model: string;
  /** Unix seconds. */
  created: number;
}

export function chatCompletion(meta: AnswerMeta, text: string, finish: FinishReason, usage: Usage, extra: Record<string, unknown> = {}) {
  return {
    id: meta.id,
    object: "chat.completion" as const,
    created: meta.created,
    model: meta.model,
    choices: [{ index: 0, message: { role: "assistant" as const, content: text, refusal: null }, finish_reason: openAIFinish(finish), logprobs: null }],
    usage,
    ...extra,
  };
}

export function chatChunk(meta: AnswerMeta, delta: { role?: "assistant"; content?: string }, finish: FinishReason | null, extra: Record<string, unknown> = {}) {
  return {
    id: meta.id,
    object: "chat.completion.chunk" as const,
    created: meta.created,
    model: meta.model,
    choices: [{ index: 0, delta, finish_reason: finish === null ? null : openAIFinish(finish), logprobs: null }],
    ...extra,
  };
}

export function completion(meta: AnswerMeta, text: string, finish: FinishReason, usage: Usage, extra: Record<string, unknown> = {}) {
  return {
    id: meta.id,
    object: "text_completion" as const,
    created: meta.created,
    model: meta.model,
    choices: [{ index: 0, text, finish_reason: openAIFinish(finish), logprobs: null }],
    usage,
    ...extra,
  };
}

export function completionChunk(meta: AnswerMeta, text: string, finish: FinishReason | null, extra: Record<string, unknown> = {}) {
  return {
    id: meta.id,
    object: "text_completion" as const,
    created: meta.created,
    model: meta.model,
    choices: [{ index: 0, text, finish_reason: finish === null ? null : openAIFinish(finish), logprobs: null }],
    ...extra,
  };
}

/** The last chunk of a stream asked for `stream_options.include_usage`: no choices, only usage. */
export function usageChunk(meta: AnswerMeta, object: "chat.completion.chunk" | "text_completion", usage: Usage) {
  return { id: meta.id, object, created: meta.created, model: meta.model, choices: [], usage };
}

export function embeddingList(model: string, vectors: number[][], inputTokens: number, format: "float" | "base64" = "float") {
  return {
    object: "list" as const,
    model,
    data: vectors.map((v, index) => ({
      object: "embedding" as const,
      index,
      embedding: format === "base64" ? Buffer.from(new Float32Array(v).buffer).toString("base64") : v,
    })),
    usage: { prompt_tokens: inputTokens, total_tokens: inputTokens },
  };
}

export function modelList(models: readonly ({ id: string; created: number; owned_by: string } & object)[]) {
  return { object: "list" as const, data: models.map((m) => ({ object: "model" as const, ...m })) };
}
