// One inference request and its answer as the provider sees them, in a canonical form: the gateway
// turns every OpenAI request into an InferenceRequest, the provider's model runner takes it, the
// receipt signs the digests of both records, and an audit re-runs the very same record. A digest
// is the sha-256 of the record's dag-json bytes, so it is also the CID of the stored record.
import * as z from "zod";
import { cidDigest, cidForRecord } from "./cid.ts";
import { cid } from "./schemas.ts";

/** Most stop sequences a request may give (OpenAI's own limit). */
export const MAX_STOP = 4;
/** Most characters of one message or prompt accepted before any token is counted. */
export const MAX_PROMPT_CHARS = 1_000_000;

export const ChatMessage = z.object({
  role: z.enum(["system", "developer", "user", "assistant"]),
  content: z.string().max(MAX_PROMPT_CHARS),
});
export type ChatMessage = z.infer<typeof ChatMessage>;

const sampling = {
  /** The model manifest's CID. */
  model: cid,
  maxTokens: z.number().int().positive(),
  temperature: z.number().min(0).max(2),
  topP: z.number().gt(0).max(1),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1),
  stop: z.array(z.string().min(1).max(256)).max(MAX_STOP),
};

export const InferenceRequest = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("chat"), messages: z.array(ChatMessage).min(1).max(1024), ...sampling }),
  z.object({ kind: z.literal("completion"), prompt: z.string().max(MAX_PROMPT_CHARS), ...sampling }),
]);
export type InferenceRequest = z.infer<typeof InferenceRequest>;

export const FinishReason = z.enum(["stop", "length", "aborted"]);
export type FinishReason = z.infer<typeof FinishReason>;

/** The whole answer to one request, once it has ended. */
export const InferenceResponse = z.object({
  text: z.string(),
  finishReason: FinishReason,
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
});
export type InferenceResponse = z.infer<typeof InferenceResponse>;

/** The bytes32 a receipt signs for a request. */
export function requestDigest(request: InferenceRequest): `0x${string}` {
  return cidDigest(cidForRecord(request).cid);
}

/** The bytes32 a receipt signs for an answer. */
export function responseDigest(response: InferenceResponse): `0x${string}` {
  return cidDigest(cidForRecord(response).cid);
}

/** The digests an embeddings receipt signs: of the request record {model, input} and of the answer {vectors, inputTokens}. */
export function embeddingDigests(
  body: { model: string; input: string[] },
  out: { vectors: number[][]; inputTokens: number },
): { request: `0x${string}`; response: `0x${string}` } {
  return {
    request: cidDigest(cidForRecord({ model: body.model, input: body.input }).cid),
    response: cidDigest(cidForRecord({ vectors: out.vectors, inputTokens: out.inputTokens }).cid),
  };
}
