// Turn a model the provider was told to serve into a running ModelRunner: a GGUF file run in-process
// (a local file, or the weights fetched from the store by the manifest's CID), or a forwarder to an
// OpenAI-compatible server the provider already runs. Weights are checked against the manifest's
// sha-256 before llama.cpp loads them: a store that handed back other bytes is refused. The checks
// run at start, llama.cpp only on the first request that needs the model (lazyRunner.ts).
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { createForwardingRunner, createLlamaRunner, type ModelRunner } from "@lily/executor";
import { LilyError, type ModelManifest, type RoyaltyTerms } from "@lily/protocol";
import type { StoreClient } from "@lily/store";
import { lazyRunner } from "./lazyRunner.ts";
import type { ServedModel } from "./servedModel.ts";

export type ModelSource =
  /** The weights from the store, by the manifest's `weights` CID (cached under the provider's work directory). */
  | { kind: "store" }
  /** A local GGUF file: it must be the manifest's weights (same sha-256). */
  | { kind: "file"; path: string }
  /** An OpenAI-compatible server serving the model under `model` (default: the manifest's name). */
  | { kind: "server"; baseUrl: string; model?: string; apiKey?: string };

export interface ModelSpec {
  /** What people call it: name@version, or the manifest CID. */
  label: string;
  /** The manifest's CID: what leases and offers name. */
  cid: string;
  manifest: ModelManifest;
  /** As the registry holds it (zero for an unregistered model). */
  royalty: RoyaltyTerms;
  source: ModelSource;
  /** Per 1,000 tokens; default the manifest's suggested pricing. */
  inputPricePer1k?: bigint;
  outputPricePer1k?: bigint;
  /** Staked per lease. */
  collateral: bigint;
}

export interface LoadModelDeps {
  store: StoreClient;
  /** Where fetched weights are kept. */
  modelsDir: string;
  /** Builds the runner for a local GGUF; default node-llama-cpp (createLlamaRunner). */
  llama?: (modelPath: string, manifest: ModelManifest) => Promise<ModelRunner>;
}

export async function loadModel(spec: ModelSpec, deps: LoadModelDeps): Promise<ServedModel> {
  const terms = {
    label: spec.label,
    cid: spec.cid,
    inputPricePer1k: spec.inputPricePer1k ?? spec.manifest.pricing.inputPer1k,
    outputPricePer1k: spec.outputPricePer1k ?? spec.manifest.pricing.outputPer1k,
    collateral: spec.collateral,
    royalty: spec.royalty,
  };
  const src = spec.source;
  if (src.kind === "server") {
    const runner = createForwardingRunner({
      baseUrl: src.baseUrl,
      model: src.model ?? spec.manifest.name,
      contextLength: spec.manifest.contextLength,
      embeddings: spec.manifest.embeddings,
      ...(src.apiKey && { apiKey: src.apiKey }),
    });
    return { ...terms, runner };
  }
  let path: string;
  if (src.kind === "file") {
    path = src.path;
    await checkWeights(spec, path);
  } else path = await fetchWeights(spec, deps);
  await checkGguf(spec, path);
  const llama = deps.llama ?? ((modelPath, m) => createLlamaRunner({ modelPath, contextLength: m.contextLength, embeddings: m.embeddings }));
  const expected = { contextLength: spec.manifest.contextLength, embeddings: spec.manifest.embeddings };
  const runner = lazyRunner(() => llama(path, spec.manifest), expected);
  return { ...terms, runner, prepare: runner.prepare };
}

const GGUF_MAGIC = "GGUF";

/** REJECT: a file llama.cpp would refuse on the first request is refused at start (its first bytes, not a load). */
async function checkGguf(spec: ModelSpec, path: string): Promise<void> {
  const fh = await open(path, "r");
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(GGUF_MAGIC.length), 0, GGUF_MAGIC.length, 0);
    if (buffer.toString("latin1", 0, bytesRead) !== GGUF_MAGIC)
      throw new LilyError({ code: "INVALID_INPUT", field: "model", message: `model ${spec.label}: ${path} is not a GGUF file (it does not start with GGUF)` });
  } finally {
    await fh.close();
  }
}

/** REJECT: weights other than the manifest's never load. */
async function checkWeights(spec: ModelSpec, path: string): Promise<void> {
  let sha: string;
  try {
    sha = await sha256File(path);
  } catch (cause) {
    // REJECT: a model file that is missing or unreadable is found at start, not by the first lease
    throw new LilyError({ code: "CONFIG", field: "model", message: `model ${spec.label}: cannot read ${path}`, cause });
  }
  if (sha !== spec.manifest.sha256) {
    throw new LilyError({
      code: "CID_MISMATCH",
      field: "model",
      message: `model ${spec.label}: ${path} has sha-256 ${sha}, the manifest names ${spec.manifest.sha256}`,
    });
  }
}

/** The weights file from the store, fetched once (checked); it takes its final name only once whole and checked. */
async function fetchWeights(spec: ModelSpec, deps: LoadModelDeps): Promise<string> {
  mkdirSync(deps.modelsDir, { recursive: true });
  const path = join(deps.modelsDir, `${spec.manifest.sha256}.gguf`);
  if (existsSync(path)) {
    await checkWeights(spec, path);
    return path;
  }
  const part = `${path}.part`;
  try {
    await deps.store.getFile(spec.manifest.weights, part);
    await checkWeights(spec, part);
  } catch (e) {
    rmSync(part, { force: true });
    throw e;
  }
  renameSync(part, path);
  return path;
}

/**
 * Read through one buffer above glibc's mmap threshold (the roles run with 2 MiB, ROLE_ENV), so
 * it is mapped for the hash alone and given back whole once collected. A read stream allocates a
 * 64 KiB buffer per read from the malloc heap instead, and a weights file's worth of them, freed
 * between longer-lived allocations, stayed resident as holes in an idle provider's heap.
 */
const HASH_BUFFER_BYTES = 4 * 1024 * 1024;

export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  const fh = await open(path, "r");
  try {
    const buffer = Buffer.allocUnsafeSlow(HASH_BUFFER_BYTES);
    for (;;) {
      const { bytesRead } = await fh.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
  return hash.digest("hex");
}
