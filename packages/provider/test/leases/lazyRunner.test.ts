// A served GGUF model is checked when the provider starts but loaded only by the first request
// that needs it, and then kept: an idle provider does not carry llama.cpp and the weights, and no
// request pays for a second load. A missing or non-GGUF file still stops the provider at start.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { zeroAddress } from "viem";
import type { ModelRunner } from "@lily/executor";
import { LilyError, type InferenceRequest, type ModelManifest } from "@lily/protocol";
import { TINY_MODEL_PATH } from "@lily/modules/tinyModel";
import type { StoreClient } from "@lily/store";
import { tempDir } from "../../../../test/support/tempDir.ts";
import { loadModel, sha256File, type ModelSpec } from "../../src/leases/loadModel.ts";
import { lazyRunner } from "../../src/leases/lazyRunner.ts";

const request = { model: "tiny", messages: [{ role: "user", content: "hi" }], maxTokens: 4 } as unknown as InferenceRequest;

/** A runner that counts its loads and closes; `failFirst` makes the first load fail. */
function counting(opts: { failFirst?: boolean } = {}) {
  const counts = { loads: 0, closes: 0 };
  const runner: ModelRunner = {
    info: () => ({ contextLength: 256, embeddings: false }),
    countInputTokens: async () => 3,
    generate: async () => ({ text: "ok", finishReason: "stop", inputTokens: 3, outputTokens: 1 }) as never,
    embed: async () => ({ vectors: [], inputTokens: 0 }),
    close: async () => {
      counts.closes++;
    },
  };
  const load = async () => {
    counts.loads++;
    if (opts.failFirst && counts.loads === 1) throw new LilyError({ code: "EXECUTOR_UNAVAILABLE", message: "no binary" });
    return runner;
  };
  return { counts, load };
}

test("nothing is loaded until a request needs the model; then it loads once and stays loaded", async () => {
  const { counts, load } = counting();
  const lazy = lazyRunner(load, { contextLength: 512, embeddings: false });
  assert.equal(counts.loads, 0);
  assert.deepEqual(lazy.info(), { contextLength: 512, embeddings: false }, "the manifest's figures before the load");
  await Promise.all([lazy.countInputTokens(request), lazy.generate(request)]);
  await lazy.generate(request);
  assert.equal(counts.loads, 1, "concurrent and later requests share the one load");
  assert.ok(lazy.loaded());
  assert.deepEqual(lazy.info(), { contextLength: 256, embeddings: false }, "the runner's own figures once loaded");
  await lazy.close();
  assert.equal(counts.closes, 1);
  assert.equal(lazy.loaded(), false);
  await assert.rejects(lazy.generate(request), (e: unknown) => e instanceof LilyError && e.code === "EXECUTOR_UNAVAILABLE");
  assert.equal(counts.loads, 1, "a closed runner does not load again");
});

test("a load that fails is reported to that request and tried again by the next", async () => {
  const { counts, load } = counting({ failFirst: true });
  const lazy = lazyRunner(load, { contextLength: 512, embeddings: false });
  await assert.rejects(lazy.generate(request), (e: unknown) => e instanceof LilyError && e.code === "EXECUTOR_UNAVAILABLE");
  assert.equal(lazy.loaded(), false);
  await lazy.generate(request);
  assert.equal(counts.loads, 2);
  await lazy.close();
});

test("prepare starts the load ahead of the first request, which then finds the model loaded", async () => {
  const { counts, load } = counting();
  const lazy = lazyRunner(load, { contextLength: 512, embeddings: false });
  lazy.prepare();
  lazy.prepare();
  await lazy.countInputTokens(request);
  assert.equal(counts.loads, 1);
  await lazy.close();
});

test("a load that prepare started and that fails is met by the next request, which tries again", async () => {
  const { counts, load } = counting({ failFirst: true });
  const lazy = lazyRunner(load, { contextLength: 512, embeddings: false });
  lazy.prepare();
  await new Promise((r) => setImmediate(r));
  await lazy.generate(request);
  assert.equal(counts.loads, 2);
  await lazy.close();
});

async function fileSpec(path: string): Promise<ModelSpec> {
  const manifest = {
    kind: "model",
    name: "tiny",
    version: "1.0.0",
    format: "gguf",
    sha256: await sha256File(path),
    contextLength: 512,
    embeddings: false,
    pricing: { inputPer1k: 1n, outputPer1k: 1n },
  } as unknown as ModelManifest;
  return { label: "tiny@1.0.0", cid: "bafy", manifest, royalty: { moduleCreator: zeroAddress, royaltyBps: 0 }, source: { kind: "file", path }, collateral: 1n };
}

test("loadModel checks a local file at start and leaves llama.cpp for the first request", async () => {
  const { counts, load } = counting();
  const deps = { store: {} as StoreClient, modelsDir: tempDir("lily-lazy-models-"), llama: load };
  const served = await loadModel(await fileSpec(TINY_MODEL_PATH), deps);
  assert.equal(counts.loads, 0, "not loaded at start");
  await served.runner.countInputTokens(request);
  assert.equal(counts.loads, 1, "loaded by the first request");
  await served.runner.close();
});

test("a missing or non-GGUF model file stops loadModel at start", async () => {
  const dir = tempDir("lily-lazy-bad-");
  const notGguf = join(dir, "model.gguf");
  writeFileSync(notGguf, "not a model at all");
  const { counts, load } = counting();
  const deps = { store: {} as StoreClient, modelsDir: dir, llama: load };
  await assert.rejects(loadModel(await fileSpec(notGguf), deps), (e: unknown) => e instanceof LilyError && e.code === "INVALID_INPUT" && e.field === "model");
  const missing = { ...(await fileSpec(notGguf)), source: { kind: "file" as const, path: join(dir, "gone.gguf") } };
  await assert.rejects(loadModel(missing, deps), (e: unknown) => e instanceof LilyError && e.code === "CONFIG" && e.field === "model");
  assert.equal(counts.loads, 0);
});
