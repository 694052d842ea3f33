// loadJob against a real store: what a job needs is fetched and checked, and when it cannot run
// for its job creator's reason the failure names the input; a module or a store that is not
// there is not the job creator's fault and is thrown for the caller to retry.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { cidForBytes, cidForRecord, isLilyError } from "@lily/protocol";
import { createLogger } from "@lily/node-kit";
import { startStore, defaultStoreOptions, StoreClient } from "@lily/store";
import { loadCatalog } from "@lily/modules";
import { JOB_FAILURE_FILE, failureOutputs, loadJob, type JobFailure } from "../src/loadJob.ts";
import { tempDir } from "../../../test/support/tempDir.ts";

let store: StoreClient;
let close: () => Promise<void>;
const modules: Record<string, string> = {};
before(async () => {
  const dataDir = tempDir("lily-loadjob-store-");
  const server = await startStore({ ...defaultStoreOptions, dataDir }, { logger: createLogger({ module: "store", level: "error" }) });
  store = new StoreClient(server.url);
  close = () => server.close();
  for (const m of loadCatalog()) {
    modules[m.manifest.name] = await store.putRecordBytes(m.manifestBytes);
    await store.putBytes(m.wasmBytes);
  }
});
after(() => close?.());

const text = new TextEncoder().encode("the cat sat on the mat\n");

test("a job whose module, inputs and file inputs are all stored loads, with defaults applied and each file's bytes", async () => {
  const file = await store.putBytes(text);
  const loaded = await loadJob(store, { module: modules.wordcount!, inputs: await store.putRecord({ file }) });
  assert.ok(loaded.ok);
  assert.equal(loaded.manifest.name, "wordcount");
  assert.ok(loaded.artifact.kind === "wasm" && loaded.manifest.executor.kind === "wasm");
  assert.equal(cidForBytes(loaded.artifact.wasm), loaded.manifest.executor.wasm);
  assert.deepEqual(loaded.inputs, { file, top: 10 });
  assert.deepEqual([...loaded.files.keys()], [file]);
  assert.deepEqual(loaded.files.get(file), text);
});

const failures: [string, () => Promise<{ module: string; inputs: string }>, Omit<JobFailure, "message">][] = [
  [
    "an inputs record no store holds",
    async () => ({ module: modules.cowsay!, inputs: cidForRecord({ message: "never stored" }).cid }),
    { code: "INPUTS_UNAVAILABLE", field: "inputs" },
  ],
  [
    "a file input no store holds",
    async () => ({ module: modules.wordcount!, inputs: await store.putRecord({ file: cidForBytes(new TextEncoder().encode("never stored")) }) }),
    { code: "INPUTS_UNAVAILABLE", field: "inputs.file" },
  ],
  [
    "inputs the module's schema refuses",
    async () => ({ module: modules.cowsay!, inputs: await store.putRecord({ message: "x".repeat(1001) }) }),
    { code: "INPUTS_INVALID", field: "inputs.message" },
  ],
  [
    "a required input missing",
    async () => ({ module: modules.cowsay!, inputs: await store.putRecord({}) }),
    { code: "INPUTS_INVALID", field: "inputs.message" },
  ],
  [
    "inputs that are raw bytes, not a dag-json record",
    async () => ({ module: modules.cowsay!, inputs: await store.putBytes(text) }),
    { code: "INPUTS_INVALID", field: "inputs" },
  ],
  [
    "inputs that are a list, not a record of named inputs",
    async () => ({ module: modules.cowsay!, inputs: await store.putRecord(["moo"]) }),
    { code: "INPUTS_INVALID", field: "inputs" },
  ],
];

for (const [what, job, expected] of failures) {
  test(`${what} is the job creator's fault: a failure naming ${expected.field}`, async () => {
    const j = await job();
    const loaded = await loadJob(store, j);
    assert.equal(loaded.ok, false);
    if (loaded.ok) return;
    assert.deepEqual(
      loaded.manifest.executor,
      (await store.getRecord<{ executor: unknown }>(j.module)).executor,
      "the manifest is still given, for the failure result",
    );
    assert.deepEqual({ code: loaded.failure.code, field: loaded.failure.field }, expected);
    assert.match(loaded.failure.message, new RegExp(`^${expected.field.replace(".", "\\.")}: `));
  });
}

test("a module no store holds is not the job creator's fault: loadJob throws NOT_FOUND for the caller to retry", async () => {
  const inputs = await store.putRecord({ message: "moo" });
  await assert.rejects(loadJob(store, { module: cidForRecord({ name: "nowhere" }).cid, inputs }), (e) => isLilyError(e, "NOT_FOUND"));
});

test("a store that does not answer is not the job creator's fault: loadJob throws UNREACHABLE", async () => {
  const gone = new StoreClient("http://127.0.0.1:9");
  await assert.rejects(loadJob(gone, { module: modules.cowsay!, inputs: cidForRecord({ message: "moo" }).cid }), (e) => isLilyError(e, "UNREACHABLE"));
});

test("a committed failure is one file, the same bytes wherever it is made", () => {
  const failure: JobFailure = { code: "INPUTS_UNAVAILABLE", field: "inputs.file", message: "inputs.file: gone" };
  const a = failureOutputs(failure);
  const b = failureOutputs({ message: failure.message, field: failure.field, code: failure.code });
  assert.deepEqual([...a.keys()], [JOB_FAILURE_FILE]);
  assert.deepEqual(a.get(JOB_FAILURE_FILE), b.get(JOB_FAILURE_FILE));
  assert.deepEqual(JSON.parse(new TextDecoder().decode(a.get(JOB_FAILURE_FILE))), failure);
});
