// A ModelRunner that forwards to an OpenAI-compatible server the provider already runs (Ollama,
// vLLM, llama.cpp's server, or `lily model serve`). Answers stream (`stream: true`) and their token
// counts come from the server's own `usage` chunk (`stream_options.include_usage`). Prompts are
// counted with vLLM's POST /tokenize where the server has it (vLLM and Lily's server do); elsewhere
// by asking for a one-token answer and reading its usage, exact but at the cost of a prompt pass.
// Aborting the signal aborts the HTTP request, which stops the server's generation.
import { readSse } from "@lily/api";
import { type FinishReason, type InferenceRequest, type InferenceResponse, LilyError, parse } from "@lily/protocol";
import * as z from "zod";
import type { GenerateOptions, ModelInfo, ModelRunner } from "./modelRunner.ts";

export interface ForwardingRunnerOptions {
  /** The server's root or its OpenAI base URL (either `http://host:port` or `http://host:port/v1`). */
  baseUrl: string;
  apiKey?: string;
  /** The model name the server knows it by. */
  model: string;
  /** The server's context length; OpenAI's API has no way to ask. Default 4096. */
  contextLength?: number;
  /** Whether the server answers POST /v1/embeddings for this model. Default false. */
  embeddings?: boolean;
}

const Options = z.object({
  baseUrl: z.url(),
  apiKey: z.string().min(1).optional(),
  model: z.string().min(1),
  contextLength: z.number().int().min(16).optional(),
  embeddings: z.boolean().optional(),
});

/** The parts of a streamed chunk this runner reads (chat and completion chunks alike). */
const Chunk = z.object({
  choices: z
    .array(z.object({ delta: z.object({ content: z.string().nullish() }).optional(), text: z.string().nullish(), finish_reason: z.string().nullish() }))
    .optional(),
  usage: z.object({ prompt_tokens: z.number().int(), completion_tokens: z.number().int() }).nullish(),
  error: z.object({ message: z.string(), param: z.string().nullish(), code: z.string().nullish() }).optional(),
});

const Usage = z.object({ usage: z.object({ prompt_tokens: z.number().int() }) });
const Tokenized = z.object({ count: z.number().int().nonnegative() });
const Embeddings = z.object({
  data: z.array(z.object({ index: z.number().int(), embedding: z.array(z.number()) })),
  usage: z.object({ prompt_tokens: z.number().int() }),
});

export function createForwardingRunner(options: ForwardingRunnerOptions): ModelRunner {
  const opts = parse(Options, options, "options");
  const root = opts.baseUrl.replace(/\/+$/, "").replace(/\/v1$/, "");
  const info: ModelInfo = { contextLength: opts.contextLength ?? 4096, embeddings: opts.embeddings ?? false };
  const headers = { "content-type": "application/json", ...(opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {}) };
  /** Whether POST /tokenize exists; learnt on first use. */
  let canTokenize: boolean | undefined;

  async function post(path: string, body: unknown, signal?: AbortSignal): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(`${root}${path}`, { method: "POST", headers, body: JSON.stringify(body), signal });
    } catch (cause) {
      if (signal?.aborted) throw cause;
      throw new LilyError({ code: "UNREACHABLE", field: "baseUrl", message: `model server at ${root} did not answer`, cause });
    }
    return res;
  }

  async function refused(res: Response): Promise<LilyError> {
    const text = await res.text();
    let error: { message?: string; param?: string | null } = {};
    try {
      error = (JSON.parse(text) as { error?: typeof error }).error ?? {};
    } catch {
      error = { message: text.slice(0, 500) };
    }
    const message = `model server: ${res.status} ${error.message ?? res.statusText}`;
    const details = { status: res.status, upstream: error };
    if (res.status === 400) return new LilyError({ code: "INVALID_INPUT", field: error.param ?? "body", message, details });
    if (res.status === 404) return new LilyError({ code: "UNKNOWN_MODULE", field: "model", message, details });
    if (res.status === 401 || res.status === 403) return new LilyError({ code: "CONFIG", field: "apiKey", message, details });
    return new LilyError({ code: "EXECUTION_FAILED", message, details });
  }

  function body(request: InferenceRequest, maxTokens: number) {
    const common = {
      model: opts.model,
      max_tokens: maxTokens,
      temperature: request.temperature,
      top_p: request.topP,
      seed: request.seed,
      ...(request.stop.length ? { stop: request.stop } : {}),
    };
    return request.kind === "chat"
      ? { path: "/v1/chat/completions", json: { ...common, messages: request.messages } }
      : { path: "/v1/completions", json: { ...common, prompt: request.prompt } };
  }

  async function countInputTokens(request: InferenceRequest): Promise<number> {
    if (canTokenize !== false) {
      const res = await post("/tokenize", { model: opts.model, ...(request.kind === "chat" ? { messages: request.messages } : { prompt: request.prompt }) });
      if (res.ok) {
        canTokenize = true;
        return parse(Tokenized, await res.json(), "tokenize").count;
      }
      if (res.status !== 404 && res.status !== 405) throw await refused(res);
      await res.body?.cancel();
      canTokenize = false;
    }
    const { path, json } = body(request, 1);
    const res = await post(path, { ...json, stream: false });
    if (!res.ok) throw await refused(res);
    return parse(Usage, await res.json(), "usage").usage.prompt_tokens;
  }

  async function generate(request: InferenceRequest, gen: GenerateOptions = {}): Promise<InferenceResponse> {
    const { path, json } = body(request, request.maxTokens);
    let text = "";
    let pieces = 0;
    let finish: FinishReason | undefined;
    let usage: { prompt_tokens: number; completion_tokens: number } | undefined;
    try {
      const res = await post(path, { ...json, stream: true, stream_options: { include_usage: true } }, gen.signal);
      if (!res.ok || !res.body) throw await refused(res);
      for await (const ev of readSse(res.body)) {
        if (ev.data === "[DONE]") break;
        const chunk = parse(Chunk, JSON.parse(ev.data), "chunk");
        if (chunk.error)
          throw new LilyError({
            code: "EXECUTION_FAILED",
            field: chunk.error.param ?? undefined,
            message: `model server: ${chunk.error.message}`,
            details: { upstream: chunk.error },
          });
        if (chunk.usage) usage = chunk.usage;
        const choice = chunk.choices?.[0];
        const piece = choice?.delta?.content ?? choice?.text ?? "";
        if (piece !== "") {
          text += piece;
          pieces++;
          gen.onText?.(piece);
        }
        if (choice?.finish_reason) finish = choice.finish_reason === "length" ? "length" : "stop";
      }
    } catch (err) {
      if (!gen.signal?.aborted) throw err;
    }
    if (gen.signal?.aborted && usage === undefined) {
      // The server's count never came: each streamed piece is one token on the servers this targets.
      return { text, finishReason: "aborted", inputTokens: await countInputTokens(request), outputTokens: pieces };
    }
    return {
      text,
      finishReason: finish ?? "stop",
      inputTokens: usage?.prompt_tokens ?? (await countInputTokens(request)),
      outputTokens: usage?.completion_tokens ?? pieces,
    };
  }

  return {
    info: () => ({ ...info }),
    countInputTokens,
    generate,
    async embed(texts) {
      if (!info.embeddings) throw new LilyError({ code: "EXECUTOR_UNAVAILABLE", field: "model", message: `embeddings are not offered for ${opts.model}` });
      const res = await post("/v1/embeddings", { model: opts.model, input: texts });
      if (!res.ok) throw await refused(res);
      const out = parse(Embeddings, await res.json(), "embeddings");
      return { vectors: [...out.data].sort((a, b) => a.index - b.index).map((d) => d.embedding), inputTokens: out.usage.prompt_tokens };
    },
    async close() {},
  };
}
