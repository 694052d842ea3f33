// A result in one round trip each way: the CAR upload (`POST /v1/car`) and the CAR download from
// the gateway, what they refuse, and the per-block way a store without them still gets.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cidForBytes, cidForRecord, isLilyError } from "@lily/protocol";
import { createLogger } from "@lily/node-kit";
import { startStore, StoreClient, defaultStoreOptions } from "../src/index.ts";
import { carOf } from "../src/carTransfer.ts";
import { tempDir } from "../../../test/support/tempDir.ts";

const dir = tempDir("lily-store-car-");
const server = await startStore({ ...defaultStoreOptions, dataDir: join(dir, "blocks") }, { logger: createLogger({ module: "store", level: "error" }) });
after(() => server.close());
const store = new StoreClient(server.url);

/** Requests the store served while `f` ran, as "METHOD path". */
async function requestsDuring(f: () => Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  const count = (req: http.IncomingMessage) => seen.push(`${req.method} ${req.url!.split("?")[0]}`);
  server.server.on("request", count);
  try {
    await f();
  } finally {
    server.server.off("request", count);
  }
  return seen;
}

function outputs(name: string, files: Record<string, string>): string {
  const out = join(dir, name);
  mkdirSync(join(out, "sub"), { recursive: true });
  for (const [file, text] of Object.entries(files)) writeFileSync(join(out, file), text);
  return out;
}

const bytes = (s: string) => new TextEncoder().encode(s);
const job = { module: cidForBytes(bytes("module")), inputs: cidForBytes(bytes("inputs")), exitCode: 0 };

test("a result goes up in one request and comes down in one, under the CID the per-block way gives", async () => {
  const out = outputs("up", { stdout: "moo\n", stderr: "", "data.json": "{}" });
  let resultCid = "";
  assert.deepEqual(await requestsDuring(async () => (resultCid = await store.putResult(out, job))), ["POST /v1/car"]);
  const perBlock = await store.putRecord({ ...job, files: await store.putDirectory(out) });
  assert.equal(resultCid, perBlock);

  const dest = join(dir, "down");
  let files: Record<string, string> = {};
  assert.deepEqual(await requestsDuring(async () => (files = (await store.downloadResult(resultCid, dest)).files)), [`GET /ipfs/${resultCid}`]);
  assert.deepEqual(Object.keys(files), ["data.json", "stderr", "stdout"]);
  assert.equal(readFileSync(join(dest, "stdout"), "utf8"), "moo\n");
  assert.equal(readFileSync(join(dest, "stderr"), "utf8"), "");
  assert.equal(readFileSync(join(dest, "data.json"), "utf8"), "{}");
});

test("two output files with the same bytes are one block in the CAR, and both come down", async () => {
  const out = outputs("same", { a: "", b: "" });
  const resultCid = await store.putResult(out, job);
  const dest = join(dir, "same-down");
  await store.downloadResult(resultCid, dest);
  assert.equal(readFileSync(join(dest, "a"), "utf8"), "");
  assert.equal(readFileSync(join(dest, "b"), "utf8"), "");
});

test("a CAR with one block whose bytes do not hash to its CID is refused naming it, and stores none of its blocks", async () => {
  const good = bytes(`good ${Date.now()}`);
  const car = carOf(
    [],
    [
      { cid: cidForBytes(good), bytes: good },
      { cid: cidForBytes(bytes("claimed")), bytes: bytes("actual") },
    ],
  );
  const res = await fetch(`${server.url}/v1/car`, { method: "POST", body: Buffer.from(car) });
  assert.equal(res.status, 422);
  const { error } = (await res.json()) as { error: { code: string; field: string } };
  assert.deepEqual([error.code, error.field], ["CID_MISMATCH", "body.blocks[1]"]);
  assert.equal(await store.has(cidForBytes(good)), false);
});

test("a body that is not a CAR, and a block of a codec the store does not hold, are refused naming the field", async () => {
  const notCar = await fetch(`${server.url}/v1/car`, { method: "POST", body: bytes("not a car") });
  assert.equal(notCar.status, 400);
  assert.equal(((await notCar.json()) as { error: { field: string } }).error.field, "body");

  // dag-cbor (0x71) under a CID of the right hash: the codec alone is refused.
  const { CID } = await import("multiformats/cid");
  const raw = bytes("cbor?");
  const asCbor = CID.createV1(0x71, CID.parse(cidForBytes(raw)).multihash).toString();
  const res = await fetch(`${server.url}/v1/car`, { method: "POST", body: Buffer.from(carOf([], [{ cid: asCbor, bytes: raw }])) });
  assert.equal(res.status, 400);
  const { error } = (await res.json()) as { error: { code: string; field: string } };
  assert.deepEqual([error.code, error.field], ["INVALID_INPUT", "body.blocks[0]"]);
});

/** A store in front of the real one: `answer` may take a request, else it goes through. */
async function frontOf(answer: (req: http.IncomingMessage, res: http.ServerResponse) => boolean): Promise<{ url: string; close: () => Promise<void> }> {
  const target = new URL(server.url);
  const front = http.createServer((req, res) => {
    if (answer(req, res)) return;
    const up = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode!, r.headers);
      r.pipe(res);
    });
    req.pipe(up);
  });
  await new Promise<void>((r) => front.listen(0, "127.0.0.1", r));
  const { port } = front.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        front.closeAllConnections();
        front.close(() => r());
      }),
  };
}

test("a store without the CAR route or the gateway (an older one) still takes and gives a result, a block at a time", async () => {
  const older = await frontOf((req, res) => {
    if (req.url!.startsWith("/v1/car") || req.url!.startsWith("/ipfs/")) {
      req.resume();
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { code: "NOT_FOUND", field: "path", message: `no route ${req.method} ${req.url}` } }));
      return true;
    }
    return false;
  });
  after(() => older.close());
  const client = new StoreClient(older.url);
  const out = outputs("older", { stdout: "old\n", stderr: "" });
  const resultCid = await client.putResult(out, job);
  assert.equal(resultCid, cidForRecord({ ...job, files: { stderr: cidForBytes(bytes("")), stdout: cidForBytes(bytes("old\n")) } }).cid);
  const dest = join(dir, "older-down");
  await client.downloadResult(resultCid, dest);
  assert.equal(readFileSync(join(dest, "stdout"), "utf8"), "old\n");
});

test("a store that answers the CAR request with something else is read a block at a time", async () => {
  const out = outputs("other", { stdout: "other\n" });
  const resultCid = await store.putResult(out, job);
  const raw = await frontOf((req, res) => {
    if (!req.url!.startsWith("/ipfs/")) return false;
    res.writeHead(200, { "content-type": "text/html" });
    res.end("<html>a portal page</html>");
    return true;
  });
  after(() => raw.close());
  const dest = join(dir, "other-down");
  await new StoreClient(raw.url).downloadResult(resultCid, dest);
  assert.equal(readFileSync(join(dest, "stdout"), "utf8"), "other\n");
});

test("a CAR that breaks off part way: what came is kept, the rest is fetched block by block", async () => {
  const out = outputs("cut", { a: "first file\n", b: "second file\n" });
  const resultCid = await store.putResult(out, job);
  const whole = new Uint8Array(await (await fetch(`${server.url}/ipfs/${resultCid}?format=car`)).arrayBuffer());
  const cut = await frontOf((req, res) => {
    if (!req.url!.startsWith("/ipfs/")) return false;
    res.writeHead(200, { "content-type": "application/vnd.ipld.car" });
    res.end(whole.subarray(0, whole.length - 4)); // the last block's bytes end short
    return true;
  });
  after(() => cut.close());
  const dest = join(dir, "cut-down");
  await new StoreClient(cut.url).downloadResult(resultCid, dest);
  assert.equal(readFileSync(join(dest, "a"), "utf8"), "first file\n");
  assert.equal(readFileSync(join(dest, "b"), "utf8"), "second file\n");
});

test("a gateway whose CAR holds bytes that do not hash to their CID is caught, not written", async () => {
  const out = outputs("lied", { stdout: "truth\n" });
  const resultCid = await store.putResult(out, job);
  const manifest = cidForRecord({ ...job, files: { stdout: cidForBytes(bytes("truth\n")) } });
  const liar = await frontOf((req, res) => {
    if (!req.url!.startsWith("/ipfs/")) return false;
    res.writeHead(200, { "content-type": "application/vnd.ipld.car" });
    res.end(carOf([resultCid], [manifest, { cid: cidForBytes(bytes("truth\n")), bytes: bytes("lies!\n") }]));
    return true;
  });
  after(() => liar.close());
  const dest = join(dir, "lied-down");
  await assert.rejects(new StoreClient(liar.url).downloadResult(resultCid, dest), (e) => isLilyError(e, "CID_MISMATCH"));
  assert.equal(existsSync(join(dest, "stdout")), false);
});
