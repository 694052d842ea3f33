// Chunked files against a real store on loopback: a file larger than a chunk round-trips byte for
// byte, chunks the store holds are not sent again, a chunk corrupted or missing on the server is
// caught and leaves nothing under the destination's name, and a client moving a file much larger
// than a chunk keeps its memory far below the file's size.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, openSync, writeSync, closeSync } from "node:fs";
import { join } from "node:path";
import { cidForBytes, cidForRecord, isLilyError } from "@lily/protocol";
import { createLogger } from "@lily/node-kit";
import {
  startStore,
  StoreClient,
  defaultStoreOptions,
  putFile,
  isFileRoot,
  DEFAULT_CHUNK_BYTES,
  FILE_ROOT_FORMAT,
  type FileRoot,
  type BlockClient,
} from "../src/index.ts";
import { tempDir } from "../../../test/support/tempDir.ts";

const dir = tempDir("lily-chunked-");
const blocksDir = join(dir, "blocks");
const server = await startStore({ ...defaultStoreOptions, dataDir: blocksDir }, { logger: createLogger({ module: "store", level: "error" }) });
after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});
const store = new StoreClient(server.url);
const MiB = 1024 * 1024;

let n = 0;
function fileOf(bytes: Uint8Array): string {
  const path = join(dir, `src-${n++}`);
  writeFileSync(path, bytes);
  return path;
}
const blockPath = (cid: string) => join(blocksDir, cid.slice(-2), cid);
/** The destination folder holds nothing but what a test put there: no partial or temporary file. */
const leftovers = (folder: string) => readdirSync(folder);

test("a file of several chunks round-trips byte for byte, its root listing the chunks in order with the total size", async () => {
  const bytes = randomBytes(3 * MiB + 12345);
  const cid = await store.putFile(fileOf(bytes));
  assert.match(cid, /^bagu/);
  const root = await store.getRecord<FileRoot>(cid);
  assert.ok(isFileRoot(root));
  assert.equal(root.size, bytes.length);
  assert.equal(root.chunkSize, DEFAULT_CHUNK_BYTES);
  assert.deepEqual(
    root.chunks,
    [0, 1, 2, 3].map((i) => cidForBytes(bytes.subarray(i * MiB, (i + 1) * MiB))),
  );
  const out = mkdtempSync(join(dir, "out-"));
  assert.deepEqual(await store.getFile(cid, join(out, "file")), { size: bytes.length });
  assert.deepEqual(readFileSync(join(out, "file")), bytes);
  assert.deepEqual(leftovers(out), ["file"]);
});

const edges: [string, number][] = [
  ["an empty file", 0],
  ["a file of exactly two chunks", 2 * MiB],
  ["a file one byte long", 1],
];
for (const [name, size] of edges) {
  test(`${name} round-trips`, async () => {
    const bytes = randomBytes(size);
    const cid = await store.putFile(fileOf(bytes));
    assert.equal((await store.getRecord<FileRoot>(cid)).chunks.length, Math.ceil(size / MiB));
    const dest = join(dir, `edge-${size}`);
    assert.equal((await store.getFile(cid, dest)).size, size);
    assert.deepEqual(readFileSync(dest), bytes);
  });
}

test("putting a file again sends no chunk the store already holds", async () => {
  const path = fileOf(randomBytes(2 * MiB + 1));
  const first = await store.putFile(path);
  const sent: string[] = [];
  const counting: BlockClient = {
    has: (cid) => store.has(cid),
    putBytes: (bytes) => {
      sent.push(cidForBytes(bytes));
      return store.putBytes(bytes);
    },
    putRecord: (value) => store.putRecord(value),
    getBytes: (cid) => store.getBytes(cid),
    getRecord: (cid) => store.getRecord(cid),
  };
  assert.equal(await putFile(counting, path), first);
  assert.deepEqual(sent, []);
});

test("a chunk corrupted on the server is caught as CID_MISMATCH naming the chunk, and nothing is left under the destination's name", async () => {
  const bytes = randomBytes(2 * MiB + 7);
  const cid = await store.putFile(fileOf(bytes));
  const root = await store.getRecord<FileRoot>(cid);
  const bad = readFileSync(blockPath(root.chunks[1]!));
  bad[1000] = bad[1000]! ^ 0xff;
  writeFileSync(blockPath(root.chunks[1]!), bad);
  const out = mkdtempSync(join(dir, "out-"));
  await assert.rejects(store.getFile(cid, join(out, "file")), (e) => isLilyError(e, "CID_MISMATCH") && e.field === "chunks.1");
  assert.deepEqual(leftovers(out), []);
});

test("a chunk missing from the server is NOT_FOUND naming the chunk, and nothing is left under the destination's name", async () => {
  const bytes = randomBytes(3 * MiB);
  const cid = await store.putFile(fileOf(bytes));
  const root = await store.getRecord<FileRoot>(cid);
  rmSync(blockPath(root.chunks[2]!));
  const out = mkdtempSync(join(dir, "out-"));
  await assert.rejects(store.getFile(cid, join(out, "file")), (e) => isLilyError(e, "NOT_FOUND") && e.field === "chunks.2");
  assert.deepEqual(leftovers(out), []);
});

test("a destination that already holds a file keeps it when the fetch fails", async () => {
  const cid = await store.putRecord({ format: FILE_ROOT_FORMAT, size: 5, chunkSize: MiB, chunks: [cidForBytes(new TextEncoder().encode("never"))] });
  const dest = join(dir, "kept");
  writeFileSync(dest, "previous");
  await assert.rejects(store.getFile(cid, dest), (e) => isLilyError(e, "NOT_FOUND"));
  assert.equal(readFileSync(dest, "utf8"), "previous");
});

const notRoots: [string, unknown, string][] = [
  ["a record that is not a file root", { message: "hello" }, "file root.format"],
  [
    "a root whose chunk count does not match its size",
    { format: FILE_ROOT_FORMAT, size: 2 * MiB + 1, chunkSize: MiB, chunks: [cidForBytes(new Uint8Array(1))] },
    "file root.chunks",
  ],
  ["a root that lists a record as a chunk", { format: FILE_ROOT_FORMAT, size: 1, chunkSize: MiB, chunks: [cidForRecord({ a: 1 }).cid] }, "file root.chunks.0"],
];
for (const [name, record, field] of notRoots) {
  test(`${name} is refused as INVALID_INPUT naming ${field}`, async () => {
    assert.equal(isFileRoot(record), false);
    const cid = await store.putRecord(record);
    await assert.rejects(store.getFile(cid, join(dir, "never")), (e) => isLilyError(e, "INVALID_INPUT") && e.field === field);
    assert.equal(existsSync(join(dir, "never")), false);
  });
}

test("a chunk shorter than its place in the file is refused", async () => {
  const short = await store.putBytes(new Uint8Array(10));
  const cid = await store.putRecord({ format: FILE_ROOT_FORMAT, size: MiB + 10, chunkSize: MiB, chunks: [short, short] });
  await assert.rejects(store.getFile(cid, join(dir, "short")), (e) => isLilyError(e, "INVALID_INPUT") && e.field === "chunks.0");
});

test("a raw block's CID is not taken for a file", async () => {
  const cid = await store.putBytes(new Uint8Array(3));
  await assert.rejects(store.getFile(cid, join(dir, "raw")), (e) => isLilyError(e, "INVALID_INPUT") && e.field === "cid");
});

test("a client moving a 256 MiB file through the store grows its peak memory by far less than the file's size", async (t) => {
  const size = 256 * MiB;
  const src = join(dir, "big");
  // Written a chunk at a time, so the test process does not hold the file either.
  const fd = openSync(src, "w");
  const block = randomBytes(MiB);
  for (let i = 0; i < size / MiB; i++) {
    block.writeUInt32LE(i, 0);
    writeSync(fd, block);
  }
  closeSync(fd);
  const dest = join(dir, "big-out");
  // Asynchronously: the store serving the client runs in this process.
  const { stdout: out } = await promisify(execFile)(process.execPath, [join(import.meta.dirname, "fixtures", "fileRoundTrip.ts"), server.url, src, dest], {
    encoding: "utf8",
  });
  const { size: got, growthBytes } = JSON.parse(out) as { size: number; growthBytes: number };
  assert.equal(got, size);
  assert.equal(sha256Of(dest), sha256Of(src));
  t.diagnostic(`peak memory grew by ${(growthBytes / MiB).toFixed(0)} MiB`);
  // A client that held the file would grow by at least its size. One chunk at a time, it grows by
  // what the garbage collector lets pile up between collections (50-95 MiB measured here, however
  // large the file), so the bound sits well between the two.
  assert.ok(growthBytes < size * 0.6, `peak memory grew by ${(growthBytes / MiB).toFixed(0)} MiB moving a ${size / MiB} MiB file`);
  rmSync(src);
  rmSync(dest);
});

function sha256Of(path: string): string {
  return execFileSync("sha256sum", [path], { encoding: "utf8" }).split(" ")[0]!;
}
