// Standard IPFS tooling reads Lily's store: @helia/verified-fetch, with the store as its only
// trustless gateway (no delegated routers, no libp2p, no public gateway), fetches a module's
// manifest, its WASM binary, a result and a chunked file, verifying every block against its CID,
// and gets the original bytes. A lying gateway that serves a tampered block is refused.
//
// Helia is built by hand (createHeliaLight + withHTTP + one httpGatewayRouting router) rather than
// with createVerifiedFetch, which would start libp2p and Bitswap and dial the public network. The
// store is a *routing* gateway here, not a fallback one: helia 7 waits forever for providers when
// it has fallback routers only. Every request verified-fetch makes is recorded and checked to go
// to the gateway under test and nowhere else.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createVerifiedFetchWithHelia, type VerifiedFetch } from "@helia/verified-fetch";
import { createHeliaLight } from "helia";
import { withHTTP } from "@helia/http";
import { httpGatewayRouting } from "@helia/routers";
import * as dagJson from "@ipld/dag-json";
import { decodeRecord } from "@lily/protocol";
import { createLogger } from "@lily/node-kit";
import { loadCatalog } from "@lily/modules";
import { startStore, StoreClient, defaultStoreOptions, type FileRoot } from "../src/index.ts";
import { tempDir } from "../../../test/support/tempDir.ts";

const dir = tempDir("lily-verified-fetch-");
const server = await startStore({ ...defaultStoreOptions, dataDir: join(dir, "blocks") }, { logger: createLogger({ module: "store", level: "error" }) });
const store = new StoreClient(server.url);
const MiB = 1024 * 1024;

// Every URL fetched from here on (by verified-fetch, or by the store client in this file).
const requested: string[] = [];
const realFetch = globalThis.fetch;
globalThis.fetch = ((input: string | URL | Request, init?: RequestInit) => {
  requested.push(input instanceof Request ? input.url : String(input));
  return realFetch(input, init);
}) as typeof fetch;

/** A verified-fetch whose only source of blocks is the trustless gateway at `gatewayUrl`. */
async function verifiedFetchFrom(gatewayUrl: string): Promise<{ vf: VerifiedFetch; stop(): Promise<void> }> {
  const helia = withHTTP(createHeliaLight({ codecs: [dagJson] }), { delegatedRouters: [], recursiveGateways: [], allowInsecure: true, allowLocal: true });
  // @helia/routers 5 still types its routers as Partial<Routing>, older than helia 7's Router;
  // findProviders, all a Router needs, is the same.
  helia.addRouter(httpGatewayRouting({ gateways: [gatewayUrl] }) as Parameters<typeof helia.addRouter>[0]);
  await helia.start();
  const vf = await createVerifiedFetchWithHelia(helia);
  return {
    vf,
    async stop() {
      await vf.stop();
      await helia.stop();
    },
  };
}

const fromStore = await verifiedFetchFrom(server.url);
after(async () => {
  await fromStore.stop();
  await server.close();
  globalThis.fetch = realFetch;
});
const { vf } = fromStore;

const bytesOf = async (res: Response) => new Uint8Array(await res.arrayBuffer());
const [mod] = loadCatalog();
assert.ok(mod, "the modules are built (npm run build:modules)");
await store.putRecordBytes(mod.manifestBytes);
await store.putBytes(mod.wasmBytes);

test("a module's manifest comes back verified: its dag-json bytes as a raw block, and the same record as JSON", async () => {
  const raw = await vf(`ipfs://${mod.manifestCid}`, { headers: { accept: "application/vnd.ipld.raw" } });
  assert.equal(raw.status, 200);
  assert.deepEqual(await bytesOf(raw), mod.manifestBytes);
  const json = await vf(`ipfs://${mod.manifestCid}`);
  assert.equal(json.status, 200);
  assert.deepEqual(decodeRecord(await bytesOf(json)), decodeRecord(mod.manifestBytes));
});

test("a module's WASM binary comes back verified, byte for byte", async () => {
  const res = await vf(`ipfs://${mod.wasmCid}`);
  assert.equal(res.status, 200);
  assert.deepEqual(await bytesOf(res), mod.wasmBytes);
});

test("a result and its files come back verified", async () => {
  const stdout = new TextEncoder().encode("hello from a job\n");
  const files = { stdout: await store.putBytes(stdout) };
  const resultCid = await store.putRecord({ module: mod.manifestCid, inputs: mod.wasmCid, exitCode: 0, files });
  const result = decodeRecord<{ files: Record<string, string> }>(
    await bytesOf(await vf(`ipfs://${resultCid}`, { headers: { accept: "application/vnd.ipld.raw" } })),
  );
  assert.deepEqual(result.files, files);
  assert.deepEqual(await bytesOf(await vf(`ipfs://${result.files.stdout}`)), stdout);
});

test("a chunked file result comes back verified: its root record, then each chunk, make the original file", async () => {
  const original = new Uint8Array(randomBytes(2.5 * MiB));
  const path = join(dir, "result.bin");
  writeFileSync(path, original);
  const fileCid = await store.putFile(path);
  const root = decodeRecord<FileRoot>(await bytesOf(await vf(`ipfs://${fileCid}`, { headers: { accept: "application/vnd.ipld.raw" } })));
  assert.equal(root.chunks.length, 3);
  const chunks: Uint8Array[] = [];
  for (const chunk of root.chunks) {
    const res = await vf(`ipfs://${chunk}`);
    assert.equal(res.status, 200);
    chunks.push(await bytesOf(res));
  }
  assert.deepEqual(new Uint8Array(Buffer.concat(chunks)), original);
});

test("verified-fetch asked nothing of anyone but the store's /ipfs/ routes (and this file's own store calls)", () => {
  const elsewhere = requested.filter((u) => !u.startsWith(`${server.url}/`));
  assert.deepEqual(elsewhere, []);
  assert.ok(
    requested.some((u) => u.startsWith(`${server.url}/ipfs/`)),
    "verified-fetch used the trustless gateway routes",
  );
});

test("a lying gateway that serves a tampered block is refused, where the same gateway passing blocks on unchanged is believed", async () => {
  // A mirror in front of the store; when `lie` is set it flips one byte, as a compromised one would.
  let lie = false;
  let asked = 0;
  const mirror = http.createServer(async (req, res) => {
    asked++;
    const upstream = await realFetch(`${server.url}${req.url}`, { headers: { accept: "application/vnd.ipld.raw" } });
    const bytes = new Uint8Array(await upstream.arrayBuffer());
    if (lie && bytes.length > 0) bytes[bytes.length >> 1]! ^= 0xff;
    res.writeHead(upstream.status, { "content-type": "application/vnd.ipld.raw" });
    res.end(bytes);
  });
  await new Promise<void>((resolve) => mirror.listen(0, "127.0.0.1", resolve));
  const fromMirror = await verifiedFetchFrom(`http://127.0.0.1:${(mirror.address() as { port: number }).port}`);
  try {
    const honest = await fromMirror.vf(`ipfs://${mod.wasmCid}`, { signal: AbortSignal.timeout(15_000) });
    assert.equal(honest.status, 200);
    assert.deepEqual(await bytesOf(honest), mod.wasmBytes);

    lie = true;
    asked = 0;
    const original = new Uint8Array(randomBytes(64 * 1024));
    const cid = await store.putBytes(original);
    let answer: Response | undefined;
    try {
      answer = await fromMirror.vf(`ipfs://${cid}`, { signal: AbortSignal.timeout(15_000) });
    } catch {
      // Refused by throwing: nothing was handed over.
    }
    assert.ok(asked > 0, "the lying gateway was asked for the block");
    if (answer) {
      // verified-fetch 8 answers 502 Bad Gateway: the block did not hash to its CID.
      assert.ok(answer.status >= 400, `a tampered block must not be answered as the content (got ${answer.status})`);
      const body = await bytesOf(answer);
      assert.ok(body.length < original.length / 2, "nothing like the tampered bytes was handed over");
    }
  } finally {
    await fromMirror.stop();
    await new Promise<void>((resolve) => mirror.close(() => resolve()));
  }
});
