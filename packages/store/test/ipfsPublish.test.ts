// Publishing to an IPFS node the user runs, against a small stand-in for Kubo's RPC API on loopback
// (no Kubo is packaged for Debian, and the `kubo` npm package downloads its binary at install time,
// which this machine cannot). The stand-in does what Kubo's `POST /api/v0/block/put` does with the
// parameters Lily sends: reads the multipart `file`, hashes it with `mhtype` into a CIDv1 of
// `cid-codec`, refuses blocks over 1 MiB without `allow-big-block`, pins when `pin=true`, and
// answers `{"Key", "Size"}`, or a Kubo-shaped error. Also `lily publish-ipfs` end to end.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { randomBytes } from "node:crypto";
import { spawn } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CID } from "multiformats/cid";
import { sha256 } from "multiformats/hashes/sha2";
import * as raw from "multiformats/codecs/raw";
import * as dagJson from "@ipld/dag-json";
import { cidForBytes, isLilyError } from "@lily/protocol";
import { createLogger } from "@lily/node-kit";
import { startStore, StoreClient, defaultStoreOptions, publishToIpfs, type FileRoot } from "../src/index.ts";
import { tempDir } from "../../../test/support/tempDir.ts";

const dir = tempDir("lily-ipfs-publish-");
const blocksDir = join(dir, "blocks");
const server = await startStore({ ...defaultStoreOptions, dataDir: blocksDir }, { logger: createLogger({ module: "store", level: "error" }) });
const store = new StoreClient(server.url);
const MiB = 1024 * 1024;

interface FakeKubo {
  url: string;
  blocks: Map<string, Uint8Array>;
  pins: Set<string>;
  /** Every request line seen, e.g. `POST /api/v0/block/put?cid-codec=raw&...`. */
  requests: string[];
  /** When set, answers this CID for every block (a node that stored something else). */
  answerKey?: string;
  close(): Promise<void>;
}

async function startFakeKubo(): Promise<FakeKubo> {
  const codecs: Record<string, number> = { raw: raw.code, "dag-json": dagJson.code };
  const kubo: FakeKubo = { url: "", blocks: new Map(), pins: new Set(), requests: [], close: async () => {} };
  const fail = (res: http.ServerResponse, status: number, message: string) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify({ Message: message, Code: 0, Type: "error" }));
  };
  const srv = http.createServer(async (req, res) => {
    kubo.requests.push(`${req.method} ${req.url}`);
    const url = new URL(req.url ?? "/", "http://kubo");
    if (url.pathname !== "/api/v0/block/put") return fail(res, 404, "404 page not found");
    // Kubo's RPC takes POST only (a browser's GET must not change the node).
    if (req.method !== "POST") return fail(res, 405, "405 - Method Not Allowed");
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const form = await new Response(Buffer.concat(chunks), { headers: { "content-type": req.headers["content-type"] ?? "" } }).formData();
    const file = form.get("file");
    if (!(file instanceof Blob)) return fail(res, 400, "file argument 'data' is required");
    const bytes = new Uint8Array(await file.arrayBuffer());
    const codec = codecs[url.searchParams.get("cid-codec") ?? "raw"];
    if (codec === undefined || url.searchParams.get("mhtype") !== "sha2-256") return fail(res, 500, "unsupported codec or hash");
    if (bytes.length > MiB && url.searchParams.get("allow-big-block") !== "true")
      return fail(
        res,
        500,
        `produced block is over 1MiB: big blocks can't be exchanged with other peers. consider using UnixFS for automatic chunking of bigger files, or pass --allow-big-block to override`,
      );
    const cid = CID.createV1(codec, await sha256.digest(bytes)).toString();
    kubo.blocks.set(cid, bytes);
    if (url.searchParams.get("pin") === "true") kubo.pins.add(cid);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ Key: kubo.answerKey ?? cid, Size: bytes.length }));
  });
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  kubo.url = `http://127.0.0.1:${(srv.address() as { port: number }).port}`;
  kubo.close = () => new Promise<void>((resolve) => srv.close(() => resolve()));
  return kubo;
}

const kubo = await startFakeKubo();
after(async () => {
  await kubo.close();
  await server.close();
});

async function putFileOf(bytes: Uint8Array, name: string): Promise<string> {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return store.putFile(path);
}

// A result whose files are one small file and one chunked file's root (3 chunks).
const big = new Uint8Array(randomBytes(2.5 * MiB));
const bigCid = await putFileOf(big, "big.bin");
const bigRoot = await store.getRecord<FileRoot>(bigCid);
const stdout = new TextEncoder().encode("moo\n");
const files = { stdout: await store.putBytes(stdout), "big.bin": bigCid };
const moduleCid = await store.putRecord({ name: "m", version: "1.0.0" });
const resultCid = await store.putRecord({ module: moduleCid, inputs: cidForBytes(new Uint8Array([1])), exitCode: 0, files });

test("a result goes to the IPFS node block by block, every block under its own CID and pinned", async () => {
  const published = await publishToIpfs(store, resultCid, kubo.url);
  const expected = [resultCid, files.stdout, bigCid, ...bigRoot.chunks];
  assert.deepEqual(published, { cid: resultCid, blocks: expected.length, bytes: published.bytes, bigBlocks: 0 });
  assert.deepEqual([...kubo.blocks.keys()].sort(), [...expected].sort());
  assert.deepEqual([...kubo.pins].sort(), [...expected].sort());
  // The node holds the very bytes: the chunks make the file, the record is the store's record.
  assert.deepEqual(new Uint8Array(Buffer.concat(bigRoot.chunks.map((c) => kubo.blocks.get(c)!))), big);
  assert.deepEqual(kubo.blocks.get(resultCid), await store.getBytes(resultCid));
  // Not the job's module or inputs: they are not the result's.
  assert.equal(kubo.blocks.has(moduleCid), false);
  assert.ok(kubo.requests.every((r) => r.startsWith("POST /api/v0/block/put?") && r.includes("mhtype=sha2-256") && r.includes("pin=true")));
});

test("pin: false stores the blocks without pinning them", async () => {
  const cid = await store.putBytes(new TextEncoder().encode("unpinned"));
  await publishToIpfs(store, cid, kubo.url, { pin: false });
  assert.ok(kubo.blocks.has(cid));
  assert.equal(kubo.pins.has(cid), false);
});

test("a block over 1 MiB is sent with allow-big-block and counted, so the user can be told", async () => {
  const cid = await store.putBytes(new Uint8Array(randomBytes(MiB + 1)));
  const published = await publishToIpfs(store, cid, kubo.url);
  assert.equal(published.bigBlocks, 1);
  assert.ok(kubo.blocks.has(cid));
  assert.match(kubo.requests.at(-1)!, /allow-big-block=true/);
});

test("refusals: a node that answers another CID, a node that is down, a node that refuses, a block the store lacks, a bad API URL", async () => {
  const cid = await store.putBytes(new TextEncoder().encode("refusals"));
  kubo.answerKey = cidForBytes(new TextEncoder().encode("something else"));
  try {
    await assert.rejects(publishToIpfs(store, cid, kubo.url), (e) => isLilyError(e, "CID_MISMATCH") && e.field === "ipfsApi");
  } finally {
    kubo.answerKey = undefined;
  }
  // A port nothing listens on: the fake's own, once closed.
  const down = await startFakeKubo();
  await down.close();
  await assert.rejects(publishToIpfs(store, cid, down.url), (e) => isLilyError(e, "UNREACHABLE") && e.field === "ipfsApi");
  await assert.rejects(publishToIpfs(store, cid, `${kubo.url}/not-kubo`), (e) => isLilyError(e, "UNREACHABLE") && /404/.test(e.message));
  // A chunk gone from the store: nothing past it is sent, and the error names the block.
  const doomed = await putFileOf(new Uint8Array(randomBytes(2 * MiB)), "doomed.bin");
  const lost = (await store.getRecord<FileRoot>(doomed)).chunks[1]!;
  rmSync(join(blocksDir, lost.slice(-2), lost));
  await assert.rejects(publishToIpfs(store, doomed, kubo.url), (e) => isLilyError(e, "NOT_FOUND"));
  assert.equal(kubo.blocks.has(lost), false);
  await assert.rejects(publishToIpfs(store, cid, "ftp://127.0.0.1:5001"), (e) => isLilyError(e, "INVALID_INPUT") && e.field === "ipfsApi");
  await assert.rejects(publishToIpfs(store, cid, "not a url"), (e) => isLilyError(e, "INVALID_INPUT") && e.field === "ipfsApi");
  await assert.rejects(publishToIpfs(store, "nope", kubo.url), (e) => isLilyError(e, "INVALID_INPUT") && e.field === "cid");
});

const LILY = fileURLToPath(new URL("../../cli/bin/lily.js", import.meta.url));

function lily(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // Asynchronous: the store and the fake node this CLI talks to run in this process.
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [LILY, "--home", tempDir("lily-ipfs-cli-"), ...args], { env: { ...process.env, LILY_LOG_LEVEL: "warn" } });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

test("`lily publish-ipfs <cid> --ipfs-api <url>` publishes a module and says where to fetch it", async () => {
  const wasm = await store.putBytes(new Uint8Array(randomBytes(4096)));
  const manifest = await store.putRecord({ name: "hello", version: "1.0.0", executor: { kind: "wasm", wasm } });
  const r = await lily("publish-ipfs", manifest, "--ipfs-api", kubo.url, "--store-url", server.url, "--json");
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { cid: manifest, blocks: 2, bytes: JSON.parse(r.stdout).bytes, bigBlocks: 0 });
  assert.ok(kubo.pins.has(manifest) && kubo.pins.has(wasm));
  const bad = await lily("publish-ipfs", manifest, "--ipfs-api", "localhost:5001", "--store-url", server.url);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /--ipfs-api/);
});
