// A GGUF model run in-process by node-llama-cpp (llama.cpp), behind the ModelRunner interface.
// The sampling loop is Lily's own, over a context sequence's token stream, so that every count is
// exact and nothing happens behind the request's back: no context shift, no hidden repeat penalty,
// no truncated prompt. Each request starts from an empty sequence, so an answer never depends on
// what ran before it: at temperature 0 the same request gives the same bytes on any fresh runner,
// which is what lets a mediator re-run an audited request and compare.
import { statSync } from "node:fs";
import type { LlamaContextSequence, LlamaEmbeddingContext, LlamaModel, Token } from "node-llama-cpp";
import * as z from "zod";
import { type FinishReason, type InferenceRequest, type InferenceResponse, LilyError, parse } from "@lily/protocol";
import { type GpuChoice, type LlamaLog, defaultGpu, loadLlama } from "./loadLlama.ts";
import type { GenerateOptions, ModelInfo, ModelRunner } from "./modelRunner.ts";
import { createPool } from "./sequencePool.ts";
import { createStopText } from "./stopText.ts";

export interface LlamaRunnerOptions {
  /** A local GGUF file. */
  modelPath: string;
  /** Tokens of prompt plus answer per request; default the model's trained context, at most 4096. */
  contextLength?: number;
  /** CPU threads; default 1 for models under 64 MiB (thread hand-offs cost more than they save there), else all math cores. */
  threads?: number;
  /**
   * Requests evaluated together in one batch (context sequences); the rest queue. Default 1: a
   * batch's shape can change a GPU's (or a large CPU matmul's) rounding, and an audit re-runs a
   * request alone, so one at a time keeps temperature-0 answers reproducible bit for bit.
   */
  parallel?: number;
  /** "auto" uses a GPU when node-llama-cpp has a prebuilt backend for it; false forces the CPU. Default: "auto" unless LILY_CPU_ONLY=1. */
  gpu?: GpuChoice;
  /** Offer `embed` (an embedding context is created on first use). Default true. */
  embeddings?: boolean;
  /** llama.cpp's warnings and errors. */
  onLog?: LlamaLog;
}

const Options = z.object({
  modelPath: z.string().min(1),
  contextLength: z.number().int().min(16).optional(),
  threads: z.number().int().min(1).max(1024).optional(),
  parallel: z.number().int().min(1).max(64).optional(),
  gpu: z.union([z.literal("auto"), z.literal(false)]).optional(),
  embeddings: z.boolean().optional(),
  onLog: z.custom<LlamaLog>((v) => typeof v === "function", "must be a function").optional(),
});

const SMALL_MODEL_BYTES = 64 * 1024 * 1024;
const DEFAULT_MAX_CONTEXT = 4096;
/** Tokens of a character node-llama-cpp may need before it decodes (UTF-8 is at most 4 bytes). */
const MAX_CHAR_TOKENS = 4;
/** Tokens of context given to the detokenizer so spacing continues the text correctly. */
const DETOKENIZE_CONTEXT = 8;

export async function createLlamaRunner(options: LlamaRunnerOptions): Promise<ModelRunner> {
  const opts: LlamaRunnerOptions = parse(Options, options, "options");
  let sizeBytes: number;
  try {
    sizeBytes = statSync(opts.modelPath).size;
  } catch (cause) {
    throw new LilyError({ code: "NOT_FOUND", field: "modelPath", message: `modelPath: no model file at ${opts.modelPath}`, cause });
  }
  const llama = await loadLlama(opts.gpu ?? defaultGpu(), opts.onLog);
  // Loaded with the binding, not at import: it pulls node-llama-cpp in (see loadLlama.ts).
  const { chatWrapperFor, promptTokens } = await import("./promptTokens.ts");
  let model: LlamaModel;
  try {
    model = await llama.loadModel({ modelPath: opts.modelPath });
  } catch (cause) {
    throw new LilyError({ code: "INVALID_INPUT", field: "modelPath", message: `modelPath: llama.cpp could not load ${opts.modelPath} as a GGUF model`, cause });
  }
  const contextLength = Math.min(opts.contextLength ?? Math.min(model.trainContextSize, DEFAULT_MAX_CONTEXT), model.trainContextSize);
  const threads = opts.threads ?? (sizeBytes < SMALL_MODEL_BYTES ? 1 : undefined);
  const parallel = opts.parallel ?? 1;
  const context = await model.createContext({ contextSize: contextLength, sequences: parallel, threads });
  const sequences = createPool(Array.from({ length: parallel }, () => context.getSequence()));
  const wrapper = chatWrapperFor(model);
  const info: ModelInfo = { contextLength, embeddings: opts.embeddings ?? true };

  let embedding: Promise<LlamaEmbeddingContext> | undefined;
  const embeddingContext = () => {
    embedding ??= model.createEmbeddingContext({ contextSize: contextLength, threads }).catch((cause: unknown) => {
      embedding = undefined;
      throw new LilyError({ code: "EXECUTOR_UNAVAILABLE", field: "model", message: "this model cannot produce embeddings here", cause });
    });
    return embedding;
  };

  function tokensOf(request: InferenceRequest) {
    const prompt = promptTokens(model, wrapper, request);
    // REJECT: a prompt that leaves no room for one answer token never reaches the model.
    if (prompt.tokens.length >= contextLength) {
      const field = request.kind === "chat" ? "messages" : "prompt";
      throw new LilyError({
        code: "INVALID_INPUT",
        field,
        message: `${field}: ${prompt.tokens.length} tokens, but the model's context holds ${contextLength} (prompt and answer together)`,
        details: { contextLengthExceeded: true, inputTokens: prompt.tokens.length, contextLength },
      });
    }
    return prompt;
  }

  async function run(sequence: LlamaContextSequence, request: InferenceRequest, input: Token[], stops: string[], gen: GenerateOptions) {
    const out: Token[] = [];
    const stopText = createStopText([...request.stop, ...stops]);
    let text = "";
    let partial: Token[] = [];
    let finish: FinishReason | undefined;
    const pass = (s: string) => {
      if (s === "") return;
      text += s;
      gen.onText?.(s);
    };
    const decode = (tokens: Token[]) => {
      const before = [...input, ...out.slice(0, out.length - tokens.length)].slice(-DETOKENIZE_CONTEXT);
      return model.detokenize(tokens, true, before);
    };
    await sequence.clearHistory();
    const tokens = sequence.evaluate(input, { temperature: request.temperature, topP: request.topP, topK: 0, seed: request.seed, yieldEogToken: true });
    for await (const token of tokens) {
      // A token that arrives after the abort is dropped: not passed on, not counted, not paid.
      if (gen.signal?.aborted) {
        finish = "aborted";
        break;
      }
      out.push(token);
      if (model.isEogToken(token)) {
        finish = "stop";
        break;
      }
      partial.push(token);
      const piece = decode(partial);
      // A character split over several byte tokens is passed on once it is whole.
      if (!(piece.endsWith("\uFFFD") && partial.length < MAX_CHAR_TOKENS && !model.isSpecialToken(token))) {
        partial = [];
        const r = stopText.push(piece);
        pass(r.emit);
        if (r.stopped) {
          finish = "stop";
          break;
        }
      }
      if (out.length >= request.maxTokens || input.length + out.length >= contextLength) {
        finish = "length";
        break;
      }
    }
    // The stream ends by itself only at an end-of-generation token it did not yield.
    finish ??= "stop";
    if (finish !== "stop") {
      // Produced and counted, so passed on: a character cut short, and text held back as a possible stop.
      const r = stopText.push(partial.length > 0 ? decode(partial) : "");
      pass(r.emit);
      if (!r.stopped) pass(stopText.flush());
    }
    return { text, finishReason: finish, inputTokens: input.length, outputTokens: out.length } satisfies InferenceResponse;
  }

  return {
    info: () => ({ ...info }),

    async countInputTokens(request) {
      return tokensOf(request).tokens.length;
    },

    async generate(request, gen = {}) {
      const prompt = tokensOf(request);
      const sequence = await sequences.acquire(gen.signal);
      if (!sequence) return { text: "", finishReason: "aborted", inputTokens: prompt.tokens.length, outputTokens: 0 };
      try {
        return await run(sequence, request, prompt.tokens, prompt.stops, gen);
      } finally {
        sequences.release(sequence);
      }
    },

    async embed(texts) {
      if (!info.embeddings) throw new LilyError({ code: "EXECUTOR_UNAVAILABLE", field: "model", message: "embeddings are turned off for this model" });
      texts.forEach((t, i) => {
        if (t === "") throw new LilyError({ code: "INVALID_INPUT", field: `input.${i}`, message: `input.${i}: an empty string has no embedding` });
      });
      const ctx = await embeddingContext();
      const vectors: number[][] = [];
      let inputTokens = 0;
      for (const [i, t] of texts.entries()) {
        const n = ctx.calculateInputLength(t);
        if (n >= contextLength) {
          throw new LilyError({
            code: "INVALID_INPUT",
            field: `input.${i}`,
            message: `input.${i}: ${n} tokens, over the model's context of ${contextLength}`,
            details: { contextLengthExceeded: true },
          });
        }
        inputTokens += n;
        vectors.push([...(await ctx.getEmbeddingFor(t)).vector]);
      }
      return { vectors, inputTokens };
    },

    async close() {
      if (embedding) await (await embedding).dispose();
      await context.dispose();
      await model.dispose();
    },
  };
}
