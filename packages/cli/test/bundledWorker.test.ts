// The WASM sandbox's worker thread as the bundle starts it: from its own bundled file beside
// main.js, not from the TypeScript source. A worker started from the source loaded Node's type
// stripper (amaro) for itself, doubling the CPU of every worker start in a provider.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { tempDir } from "../../../test/support/tempDir.ts";
// @ts-expect-error: plain JS without types, shared with bin/lily.js
import { currentBundle } from "../bin/currentBundle.js";

const SOURCE_WORKER = fileURLToPath(new URL("../../executor/src/wasiWorker.ts", import.meta.url));

/** The bundle's folder, or undefined when it is stale (lily then runs the sources). */
function bundleDir(): string | undefined {
  const entry = currentBundle() as string | undefined;
  return entry && fileURLToPath(new URL(".", entry));
}

test("the bundle's executor starts its WASI workers from the bundled worker file", (t) => {
  const dist = bundleDir();
  if (!dist) return t.skip("the bundle is older than its sources (npm run build:cli rebuilds it)");
  const chunks = JSON.parse(readFileSync(join(dist, "chunks.json"), "utf8")) as Record<string, string[]>;
  assert.ok(chunks["wasiWorker.js"]?.includes("packages/executor/src/wasiWorker.ts"), "wasiWorker.js holds the worker");
  const [executorChunk] =
    Object.entries(chunks).find(([, held]) => held.includes("packages/executor/src/wasmExecutor.ts")) ?? assert.fail("no chunk holds the executor");
  const code = readFileSync(join(dist, executorChunk), "utf8");
  assert.ok(code.includes('new URL("./wasiWorker.js", import.meta.url)'), `${executorChunk} starts ./wasiWorker.js beside itself`);
  assert.ok(!code.includes("wasiWorker.ts"), `${executorChunk} never names the source worker`);
});

/** Which of Node's type-stripper modules a worker thread loaded for `file`, with no compile cache. */
async function stripperLoadedFor(file: string): Promise<string[]> {
  const probe = join(tempDir("lily-worker-probe-"), "probe.mjs");
  writeFileSync(
    probe,
    'import { parentPort, workerData } from "node:worker_threads";\n' +
      "await import(workerData);\n" +
      'parentPort.postMessage(process.moduleLoadList.filter((m) => m.includes("/amaro/")));\n',
  );
  const worker = new Worker(probe, { workerData: file, env: { ...process.env, NODE_DISABLE_COMPILE_CACHE: "1" }, stderr: true });
  worker.stderr.resume(); // node:wasi's experimental warning
  try {
    return await new Promise((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    });
  } finally {
    await worker.terminate();
  }
}

test("the bundled worker loads no TypeScript stripper; the source worker, the control, does", async (t) => {
  const dist = bundleDir();
  if (!dist) return t.skip("the bundle is older than its sources (npm run build:cli rebuilds it)");
  assert.deepEqual(await stripperLoadedFor(join(dist, "wasiWorker.js")), []);
  assert.ok((await stripperLoadedFor(SOURCE_WORKER)).length > 0, "the probe sees the stripper where there is one");
});
