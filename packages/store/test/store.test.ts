import { test, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, writeFileSync, readFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { cidForBytes, isLilyError } from "@lily/protocol";
import { createLogger } from "@lily/node-kit";
import { startStore, StoreClient, defaultStoreOptions } from "../src/index.ts";
import { tempDir } from "../../../test/support/tempDir.ts";

const dir = tempDir("lily-store-");
const server = await startStore({ ...defaultStoreOptions, dataDir: join(dir, "blocks") }, { logger: createLogger({ module: "store", level: "error" }) });
after(() => server.close());
const store = new StoreClient(server.url);

test("bytes put into the store come back under their CID", async () => {
  const bytes = new TextEncoder().encode("moo");
  const cid = await store.putBytes(bytes);
  assert.equal(cid, cidForBytes(bytes));
  assert.deepEqual(await store.getBytes(cid), bytes);
  assert.equal(await store.has(cid), true);
});

test("records are stored as dag-json and decode to the same value", async () => {
  const cid = await store.putRecord({ message: "hello", n: 3 });
  assert.match(cid, /^bagu/);
  assert.deepEqual(await store.getRecord(cid), { message: "hello", n: 3 });
});

test("an unknown CID is NOT_FOUND", async () => {
  const missing = cidForBytes(new TextEncoder().encode("never stored"));
  await assert.rejects(store.getBytes(missing), (e) => isLilyError(e, "NOT_FOUND"));
  assert.equal(await store.has(missing), false);
});

test("a malformed CID is refused naming the field", async () => {
  await assert.rejects(store.getBytes("nope"), (e) => isLilyError(e, "INVALID_INPUT") && e.field === "params.cid");
});

test("a block on disk that was tampered with is caught by the client", async () => {
  const bytes = new TextEncoder().encode("original");
  const cid = await store.putBytes(bytes);
  writeFileSync(join(dir, "blocks", cid.slice(-2), cid), "tampered");
  await assert.rejects(store.getBytes(cid), (e) => isLilyError(e, "CID_MISMATCH"));
});

test("a directory round-trips through a result manifest", async () => {
  const out = join(dir, "out");
  mkdirSync(out);
  writeFileSync(join(out, "stdout"), "hi\n");
  writeFileSync(join(out, "data.json"), "{}");
  const files = await store.putDirectory(out);
  const resultCid = await store.putRecord({ module: files.stdout!, inputs: files.stdout!, exitCode: 0, files });
  const dest = join(dir, "dest");
  const manifest = await store.downloadResult(resultCid, dest);
  assert.deepEqual(Object.keys(manifest.files).sort(), ["data.json", "stdout"]);
  assert.equal(readFileSync(join(dest, "stdout"), "utf8"), "hi\n");
});

test("putDirectory uploads more files than it sends at once, each under its own CID, in name order, skipping folders", async () => {
  const out = join(dir, "many");
  mkdirSync(join(out, "sub"), { recursive: true });
  const names = Array.from({ length: 9 }, (_, i) => `file-${9 - i}`);
  for (const name of names) writeFileSync(join(out, name), `contents of ${name}\n`);
  const files = await store.putDirectory(out);
  assert.deepEqual(Object.keys(files), [...names].sort());
  for (const name of names) assert.equal(files[name], cidForBytes(new TextEncoder().encode(`contents of ${name}\n`)), name);
});

test("a result naming a file outside its folder is refused before any file is written", async () => {
  const good = await store.putBytes(new TextEncoder().encode("fine\n"));
  const resultCid = await store.putRecord({ module: good, inputs: good, exitCode: 0, files: { a: good, "../escape": good } });
  const dest = join(dir, "refused");
  await assert.rejects(store.downloadResult(resultCid, dest), (e) => isLilyError(e, "INVALID_INPUT") && e.field === "result.files.../escape");
  assert.equal(existsSync(dest), false);
});
