// OpenAI's request bodies as Lily accepts them (chat completions, completions, embeddings), checked
// with zod so a wrong type is a 400 naming the field, as OpenAI's own API answers. Fields Lily does
// not implement are refused by name rather than silently ignored when ignoring them would change
// the answer (n > 1, logprobs, tools); harmless ones (user, metadata) are accepted and dropped.
import * as z from "zod";
import { MAX_PROMPT_CHARS, MAX_STOP } from "@lily/protocol";

/** What a request may ask for at most, before the model's own context length is applied. */
export const MAX_COMPLETION_TOKENS = 32_768;
/** max_tokens for /v1/completions when the client gives none (OpenAI's default). */
export const DEFAULT_COMPLETION_MAX_TOKENS = 16;

const textPart = z.object({ type: z.literal("text"), text: z.string() });

export const OpenAIChatMessage = z.object({
  role: z.enum(["system", "developer", "user", "assistant"]),
  content: z.union([z.string().max(MAX_PROMPT_CHARS), z.array(textPart).max(256)]),
  name: z.string().max(64).optional(),
});

const stop = z
  .union([z.string().min(1).max(256), z.array(z.string().min(1).max(256)).max(MAX_STOP)])
  .nullable()
  .optional();
const unsupported = (what: string) => z.undefined({ error: `is not supported by Lily (${what})` }).optional();

const common = {
  model: z.string().min(1).max(256),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().gt(0).max(1).nullable().optional(),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1)
    .nullable()
    .optional(),
  stop,
  stream: z.boolean().nullable().optional(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullable().optional(),
  n: z.literal(1, { error: "must be 1: Lily returns one choice" }).nullable().optional(),
  user: z.string().max(256).optional(),
  metadata: z.record(z.string(), z.string()).optional(),
  frequency_penalty: z.number().min(-2).max(2).nullable().optional(),
  presence_penalty: z.number().min(-2).max(2).nullable().optional(),
  logprobs: z.union([z.literal(false), z.null()], { error: "is not supported by Lily" }).optional(),
};

export const ChatCompletionRequest = z.object({
  ...common,
  messages: z.array(OpenAIChatMessage).min(1, "must hold at least one message").max(1024),
  max_tokens: z.number().int().positive().max(MAX_COMPLETION_TOKENS).nullable().optional(),
  max_completion_tokens: z.number().int().positive().max(MAX_COMPLETION_TOKENS).nullable().optional(),
  tools: unsupported("tools"),
  functions: unsupported("functions"),
});
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequest>;

export const CompletionRequest = z.object({
  ...common,
  prompt: z.union([z.string().max(MAX_PROMPT_CHARS), z.array(z.string().max(MAX_PROMPT_CHARS)).length(1, "must be one prompt: Lily returns one choice")]),
  max_tokens: z.number().int().positive().max(MAX_COMPLETION_TOKENS).nullable().optional(),
  echo: z.literal(false, { error: "is not supported by Lily" }).optional(),
  suffix: unsupported("suffix"),
});
export type CompletionRequest = z.infer<typeof CompletionRequest>;

export const EmbeddingRequest = z.object({
  model: z.string().min(1).max(256),
  input: z.union([z.string().max(100_000), z.array(z.string().max(100_000)).min(1).max(256)]),
  encoding_format: z.enum(["float", "base64"]).optional(),
  user: z.string().max(256).optional(),
});
export type EmbeddingRequest = z.infer<typeof EmbeddingRequest>;

/** A chat message's text, whichever form its content took. */
export function messageText(content: z.infer<typeof OpenAIChatMessage>["content"]): string {
  return typeof content === "string" ? content : content.map((p) => p.text).join("");
}
