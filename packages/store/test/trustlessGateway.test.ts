// The store's /ipfs/ routes against the IPFS trustless gateway spec, on a real store on loopback:
// raw blocks and CARs with the spec's headers, CARs holding exactly the DAG Lily's links describe
// (each block re-hashed here against its CID with multiformats), the CAR parameters (dag-scope,
// entity-bytes, dups), the probe CID, and every refusal: a bad CID, an unknown one, an Accept or
// format not served, a path under a CID, another method. A chunk missing on disk ends the CAR short.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import http from "node:http";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CarReader } from "@ipld/car";
import { CID } from "multiformats/cid";
import { sha256 } from "multiformats/hashes/sha2";
import { cidForBytes, decodeRecord } from "@lily/protocol";
import { createLogger } from "@lily/node-kit";
import { loadCatalog } from "@lily/modules";
import { startStore, StoreClient, defaultStoreOptions, type FileRoot } from "../src/index.ts";
import { tempDir } from "../../../test/support/tempDir.ts";

const dir = tempDir("lily-gateway-");
const blocksDir = join(dir, "blocks");
const server = await startStore({ ...defaultStoreOptions, dataDir: blocksDir }, { logger: createLogger({ module: "store", level: "error" }) });
after(() => server.close());
const store = new StoreClient(server.url);
const MiB = 1024 * 1024;
const RAW = "application/vnd.ipld.raw";
const CAR = "application/vnd.ipld.car";

const get = (path: string, headers: Record<string, string> = {}, method = "GET") => fetch(`${server.url}${path}`, { method, headers });

async function putFileOf(bytes: Uint8Array, name: string): Promise<string> {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return store.putFile(path);
}

/** The CAR's roots and blocks, every block checked to hash to its CID (sha-256) as a client would. */
async function readCar(res: Response): Promise<{ roots: string[]; blocks: { cid: string; bytes: Uint8Array }[] }> {
  const reader = await CarReader.fromBytes(new Uint8Array(await res.arrayBuffer()));
  const blocks: { cid: string; bytes: Uint8Array }[] = [];
  for await (const { cid, bytes } of reader.blocks()) {
    assert.equal(cid.multihash.code, sha256.code);
    assert.deepEqual((await sha256.digest(bytes)).digest, cid.multihash.digest, `block ${cid} must hash to its CID`);
    blocks.push({ cid: cid.toString(), bytes });
  }
  return { roots: (await reader.getRoots()).map(String), blocks };
}

function concat(parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

// A chunked file of three chunks (2.5 MiB), a module (manifest + wasm) and a result (record + files).
const fileBytes = new Uint8Array(randomBytes(2.5 * MiB));
const fileCid = await putFileOf(fileBytes, "weights.bin");
const fileRoot = await store.getRecord<FileRoot>(fileCid);
const [mod] = loadCatalog();
assert.ok(mod, "the modules are built (npm run build:modules)");
await store.putRecordBytes(mod.manifestBytes);
await store.putBytes(mod.wasmBytes);
const stdout = new TextEncoder().encode("moo\n");
const files = { stdout: await store.putBytes(stdout), "data.json": await store.putBytes(new TextEncoder().encode("{}")) };
const resultCid = await store.putRecord({ module: mod.manifestCid, inputs: cidForBytes(new Uint8Array([1])), exitCode: 0, files });

test("a raw block comes back as application/vnd.ipld.raw with the spec's headers, asked by Accept or by ?format=raw", async () => {
  for (const [path, headers] of [
    [`/ipfs/${files.stdout}`, { accept: RAW }],
    [`/ipfs/${files.stdout}?format=raw`, {}],
  ] as const) {
    const res = await get(path, headers);
    assert.equal(res.status, 200);
    assert.deepEqual(new Uint8Array(await res.arrayBuffer()), stdout);
    assert.equal(res.headers.get("content-type"), RAW);
    assert.equal(res.headers.get("content-length"), String(stdout.length));
    assert.equal(res.headers.get("cache-control"), "public, max-age=29030400, immutable");
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    assert.equal(res.headers.get("etag"), `"${files.stdout}.raw"`);
    assert.equal(res.headers.get("content-disposition"), `attachment; filename="${files.stdout}.bin"`);
    assert.equal(res.headers.get("x-ipfs-path"), `/ipfs/${files.stdout}`);
  }
});

test("a record's raw block is its dag-json bytes, byte for byte", async () => {
  const res = await get(`/ipfs/${mod.manifestCid}?format=raw`);
  assert.deepEqual(new Uint8Array(await res.arrayBuffer()), mod.manifestBytes);
});

test("HEAD answers the same headers and no body; If-None-Match with the Etag is 304", async () => {
  const head = await get(`/ipfs/${mod.wasmCid}?format=raw`, {}, "HEAD");
  assert.equal(head.status, 200);
  assert.equal(head.headers.get("content-length"), String(mod.wasmBytes.length));
  assert.equal((await head.arrayBuffer()).byteLength, 0);
  const again = await get(`/ipfs/${mod.wasmCid}?format=raw`, { "if-none-match": head.headers.get("etag")! });
  assert.equal(again.status, 304);
  const carHead = await get(`/ipfs/${fileCid}?format=car`, {}, "HEAD");
  assert.equal(carHead.status, 200);
  assert.equal(carHead.headers.get("content-type"), `${CAR}; version=1; order=dfs; dups=n`);
  assert.equal((await carHead.arrayBuffer()).byteLength, 0);
});

test("a chunked file's CAR holds its root and every chunk in order, and the chunks make the file", async () => {
  const res = await get(`/ipfs/${fileCid}`, { accept: `${CAR}; version=1` });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), `${CAR}; version=1; order=dfs; dups=n`);
  assert.equal(res.headers.get("cache-control"), "public, max-age=29030400, immutable");
  assert.equal(res.headers.get("x-content-type-options"), "nosniff");
  assert.equal(res.headers.get("etag"), `"${fileCid}.car.v1.dfs.dups-n.all"`);
  assert.equal(res.headers.get("content-location"), `/ipfs/${fileCid}?format=car`);
  const car = await readCar(res);
  assert.deepEqual(car.roots, [fileCid]);
  assert.deepEqual(
    car.blocks.map((b) => b.cid),
    [fileCid, ...fileRoot.chunks],
  );
  assert.equal(fileRoot.chunks.length, 3);
  assert.deepEqual(concat(car.blocks.slice(1).map((b) => b.bytes)), fileBytes);
});

test("a module's CAR holds its manifest and its wasm; a result's holds the record and its files, not the module or inputs", async () => {
  const modCar = await readCar(await get(`/ipfs/${mod.manifestCid}?format=car`));
  assert.deepEqual(
    modCar.blocks.map((b) => b.cid),
    [mod.manifestCid, mod.wasmCid],
  );
  assert.deepEqual(modCar.blocks[1]!.bytes, mod.wasmBytes);
  const resultCar = await readCar(await get(`/ipfs/${resultCid}?format=car`));
  assert.deepEqual(resultCar.blocks.map((b) => b.cid).sort(), [resultCid, files["data.json"], files.stdout].sort());
  assert.equal(resultCar.blocks[0]!.cid, resultCid);
  assert.deepEqual(decodeRecord(resultCar.blocks[0]!.bytes), { module: mod.manifestCid, inputs: cidForBytes(new Uint8Array([1])), exitCode: 0, files });
});

test("dag-scope=block is the root alone; entity-bytes the root and only the chunks holding the range", async () => {
  const block = await readCar(await get(`/ipfs/${fileCid}?format=car&dag-scope=block`));
  assert.deepEqual(
    block.blocks.map((b) => b.cid),
    [fileCid],
  );
  const cases: [string, string[]][] = [
    [`${MiB}:${MiB + 10}`, [fileRoot.chunks[1]!]],
    [`${MiB - 1}:${MiB}`, [fileRoot.chunks[0]!, fileRoot.chunks[1]!]],
    ["-10:*", [fileRoot.chunks[2]!]],
    ["0:*", fileRoot.chunks],
    [`${10 * MiB}:*`, []],
  ];
  for (const [range, chunks] of cases) {
    const res = await get(`/ipfs/${fileCid}?format=car&entity-bytes=${range}`);
    assert.equal(res.headers.get("etag"), `"${fileCid}.car.v1.dfs.dups-n.entity.bytes-${range.replace(":", "-").replace("*", "end")}"`);
    assert.deepEqual(
      (await readCar(res)).blocks.map((b) => b.cid),
      [fileCid, ...chunks],
      `entity-bytes=${range}`,
    );
  }
});

test("a file whose chunks repeat sends each block once; dups=y is refused (a repeated link must not multiply the bytes)", async () => {
  const zeros = await putFileOf(new Uint8Array(3 * MiB), "zeros.bin");
  const once = await readCar(await get(`/ipfs/${zeros}?format=car`));
  assert.equal(once.blocks.length, 2);
  const refused = await get(`/ipfs/${zeros}?format=car&car-dups=y`);
  assert.equal(refused.status, 406);
  assert.equal(((await refused.json()) as { error: { field: string } }).error.field, "query.car-dups");
  assert.equal((await get(`/ipfs/${zeros}`, { accept: `${CAR}; version=1; order=dfs; dups=y` })).status, 406);
});

test("a long chain of records is walked in time proportional to its length", async () => {
  // Anyone may store records: 3,000 records each linking the next (IPLD links) must not cost
  // the square of that, nor the call stack.
  let next = await store.putBytes(new TextEncoder().encode("end of chain"));
  const chain: string[] = [next];
  for (let i = 0; i < 3000; i++) {
    next = await store.putRecord({ next: CID.parse(next), i });
    chain.push(next);
  }
  const started = Date.now();
  const car = await readCar(await get(`/ipfs/${next}?format=car`));
  assert.equal(car.blocks.length, chain.length);
  assert.deepEqual(
    car.blocks.map((b) => b.cid),
    [...chain].reverse(),
  );
  assert.ok(Date.now() - started < 20_000, `took ${Date.now() - started} ms`);
});

test("the probe CID bafkqaaa answers an empty raw block and a CAR rooted at it with no blocks", async () => {
  const raw = await get("/ipfs/bafkqaaa?format=raw", { accept: RAW });
  assert.equal(raw.status, 200);
  assert.equal((await raw.arrayBuffer()).byteLength, 0);
  const car = await readCar(await get("/ipfs/bafkqaaa?format=car", { accept: CAR }));
  assert.deepEqual(car, { roots: ["bafkqaaa"], blocks: [] });
});

test("format wins over Accept, and Accept's q values choose between raw and CAR", async () => {
  assert.equal((await get(`/ipfs/${files.stdout}?format=raw`, { accept: CAR })).headers.get("content-type"), RAW);
  const res = await get(`/ipfs/${files.stdout}`, { accept: `${RAW};q=0.5, ${CAR};version=1;q=0.9` });
  assert.match(res.headers.get("content-type")!, /^application\/vnd\.ipld\.car; version=1/);
  // A CAR variant not served is skipped for one that is.
  const res2 = await get(`/ipfs/${files.stdout}`, { accept: `${CAR};version=2, ${RAW};q=0.1` });
  assert.equal(res2.headers.get("content-type"), RAW);
});

test("refusals: 400 naming the field, 404 for a CID not held, 406 for a representation not served, 405 for another method", async () => {
  const unknown = cidForBytes(new TextEncoder().encode("never stored"));
  const cases: { path: string; headers?: Record<string, string>; method?: string; status: number; field?: string }[] = [
    { path: "/ipfs/not-a-cid?format=raw", status: 400, field: "cid" },
    { path: "/ipfs/?format=raw", status: 400, field: "cid" },
    { path: "/ipfs/%E0%A4%A?format=raw", status: 400, field: "cid" },
    { path: `/ipfs/${unknown}?format=raw`, status: 404, field: "cid" },
    { path: `/ipfs/${unknown}?format=car`, status: 404, field: "cid" },
    { path: `/ipfs/${unknown}?format=raw`, headers: { "cache-control": "only-if-cached" }, status: 412, field: "cid" },
    // A CID of a hash or codec the store never keeps is simply not held.
    { path: `/ipfs/${CID.createV0(await sha256.digest(new TextEncoder().encode("never stored")))}?format=raw`, status: 404, field: "cid" },
    { path: `/ipfs/${files.stdout}`, headers: { accept: "*/*" }, status: 406, field: "accept" },
    { path: `/ipfs/${files.stdout}`, headers: { accept: "text/html,application/xhtml+xml" }, status: 406, field: "accept" },
    { path: `/ipfs/${files.stdout}`, headers: { accept: `${CAR};version=2` }, status: 406, field: "accept" },
    { path: `/ipfs/${files.stdout}?format=dag-json`, status: 406, field: "query.format" },
    { path: `/ipfs/${files.stdout}?format=car&car-version=2`, status: 406, field: "query.car-version" },
    { path: `/ipfs/${files.stdout}?format=car&dag-scope=everything`, status: 400, field: "query.dag-scope" },
    { path: `/ipfs/${files.stdout}?format=car&entity-bytes=9:3`, status: 400, field: "query.entity-bytes" },
    { path: `/ipfs/${files.stdout}?format=car&entity-bytes=abc`, status: 400, field: "query.entity-bytes" },
    { path: `/ipfs/${files.stdout}?format=raw&dag-scope=all`, status: 400, field: "query.dag-scope" },
    { path: `/ipfs/${resultCid}/files/stdout?format=car`, status: 400, field: "path" },
    { path: `/ipfs/${files.stdout}?format=raw`, method: "POST", status: 405, field: "method" },
    { path: `/ipfs/${files.stdout}?format=raw`, method: "DELETE", status: 405, field: "method" },
  ];
  for (const c of cases) {
    const res = await get(c.path, c.headers, c.method);
    assert.equal(res.status, c.status, `${c.method ?? "GET"} ${c.path} ${JSON.stringify(c.headers ?? {})}`);
    const body = (await res.json()) as { error: { field?: string } };
    assert.equal(body.error.field, c.field, `${c.path}: ${JSON.stringify(body)}`);
  }
  assert.equal((await get(`/ipfs/${files.stdout}?format=raw`, {}, "POST")).headers.get("allow"), "GET, HEAD");
});

test("no format and no Accept at all is 400 naming accept (a strict trustless gateway has no default)", async () => {
  // fetch always sends Accept: */*, so this one goes out by node:http, which sends none.
  const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    http
      .get(`${server.url}/ipfs/${files.stdout}`, (res) => {
        let body = "";
        res.on("data", (d) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode!, body }));
      })
      .on("error", reject);
  });
  assert.equal(status, 400);
  assert.equal((JSON.parse(body) as { error: { field: string } }).error.field, "accept");
});

test("the store's own API is untouched by the gateway in front of it", async () => {
  assert.deepEqual(await store.getBytes(files.stdout), stdout);
  const health = (await (await fetch(`${server.url}/v1/health`)).json()) as { role: string };
  assert.equal(health.role, "store");
});

test("a chunk missing on disk ends the CAR short: the client cannot read a complete CAR", async () => {
  const bytes = new Uint8Array(randomBytes(2 * MiB + 1));
  const cid = await putFileOf(bytes, "doomed.bin");
  const root = await store.getRecord<FileRoot>(cid);
  const last = root.chunks[2]!;
  rmSync(join(blocksDir, last.slice(-2), last));
  const res = await get(`/ipfs/${cid}?format=car`);
  // The root was there, so the answer had committed to 200 before the walk reached the chunk.
  assert.equal(res.status, 200);
  await assert.rejects(async () => {
    const car = await readCar(res);
    // Should the transport hand over a clean end, the CAR must still lack the chunk.
    assert.ok(
      car.blocks.some((b) => b.cid === last),
      "the CAR is incomplete",
    );
  });
});
