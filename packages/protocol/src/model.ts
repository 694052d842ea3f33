// Model manifests (Ampli): a text-generation model the network serves through leases, published in
// the module registry beside modules (name@version -> the CID of this record). The weights travel
// by content like container images: `weights` is the CID of the GGUF file in the store (chunked),
// and `sha256` its plain file digest, checked before a provider loads it.
import * as z from "zod";
import { address, cid, uint } from "./schemas.ts";

export const MODEL_FORMATS = ["gguf"] as const;

export const ModelManifest = z.object({
  kind: z.literal("model"),
  name: z.string().regex(/^[a-z][a-z0-9-]{0,63}$/, "lower-case letters, digits and dashes"),
  version: z.string().regex(/^(0|[1-9]\d{0,9})\.(0|[1-9]\d{0,9})\.(0|[1-9]\d{0,9})$/, "must be semver x.y.z, each part a number without leading zeros"),
  description: z.string(),
  format: z.enum(MODEL_FORMATS),
  weights: cid,
  sha256: z.string().regex(/^[0-9a-f]{64}$/, "the weights file's sha-256, 64 hex digits"),
  sizeBytes: z.number().int().positive(),
  /** Tokens of prompt plus answer the model can attend to; longer prompts are refused before anything is paid. */
  contextLength: z.number().int().positive(),
  /** Whether /v1/embeddings may be served by this model. */
  embeddings: z.boolean().default(false),
  /** The creator's suggested prices, token base units per 1,000 tokens; providers set their own. */
  pricing: z.object({ inputPer1k: uint, outputPer1k: uint }),
  /**
   * How an audit judges a re-run equal to the provider's answer (both at temperature 0 and the
   * request's seed): `exact` text, or `similarity` of the two texts' token sets at or above threshold.
   */
  comparator: z
    .discriminatedUnion("kind", [z.object({ kind: z.literal("exact") }), z.object({ kind: z.literal("similarity"), threshold: z.number().min(0).max(1) })])
    .default({ kind: "exact" }),
  license: z.string(),
  creator: address.optional(),
  royaltyBps: z.number().int().min(0).max(10_000).default(0),
});

export type ModelManifest = z.infer<typeof ModelManifest>;

/** Whether a manifest record (parsed JSON) is a model's rather than a module's. */
export function isModelManifest(record: unknown): boolean {
  return typeof record === "object" && record !== null && (record as { kind?: unknown }).kind === "model";
}
