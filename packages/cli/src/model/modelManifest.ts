// Describe a local GGUF file as a model manifest (protocol/model.ts): its weights' CID (the file as
// the store chunks it) and sha-256, its size and context length, and the creator's prices. The
// manifest's own CID is what the registry names.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { fileCid } from "@lily/store";
import { LilyError, ModelManifest, cidForRecord, parse, toWire } from "@lily/protocol";
import type { Address } from "viem";
import { ggufContextLength, readGgufMetadata } from "./ggufMetadata.ts";

export interface ModelManifestInput {
  path: string;
  name: string;
  version: string;
  description?: string;
  /** Token base units per 1,000 tokens. */
  inputPer1k: bigint;
  outputPer1k: bigint;
  /** Defaults to the GGUF's own context length. */
  contextLength?: number;
  embeddings?: boolean;
  license?: string;
  creator?: Address;
  royaltyBps?: number;
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

export async function describeModel(input: ModelManifestInput): Promise<{ manifest: ModelManifest; manifestCid: string; manifestBytes: Uint8Array }> {
  const meta = await readGgufMetadata(input.path);
  const contextLength = input.contextLength ?? ggufContextLength(meta);
  if (!contextLength)
    throw new LilyError({ code: "INVALID_INPUT", field: "--context", message: `--context: ${input.path} does not say its context length; give it` });
  const { cid: weights, size } = await fileCid(input.path);
  const name = meta.kv.get("general.name");
  const manifest = parse(
    ModelManifest,
    {
      kind: "model",
      name: input.name,
      version: input.version,
      description: input.description ?? (typeof name === "string" ? name : input.name),
      format: "gguf",
      weights,
      sha256: await sha256File(input.path),
      sizeBytes: size,
      contextLength,
      embeddings: input.embeddings ?? false,
      pricing: { inputPer1k: input.inputPer1k, outputPer1k: input.outputPer1k },
      comparator: { kind: "exact" },
      license: input.license ?? "unknown",
      ...(input.creator && { creator: input.creator }),
      royaltyBps: input.royaltyBps ?? 0,
    },
    "model manifest",
  );
  // Stored as wire JSON: the prices' bigints as decimal strings (dag-json has no bigint).
  const { cid, bytes } = cidForRecord(toWire(manifest));
  return { manifest, manifestCid: cid, manifestBytes: bytes };
}
