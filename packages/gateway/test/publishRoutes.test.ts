// The gateway's side of publishing from the studio, on a real network (anvil, store, solver): the
// chain's public config for the browser; uploads only for a signed-in caller, only of bytes that
// hash to the CID named, a manifest only once its artifact is stored and only naming its uploader
// as creator; nothing stored by a refused upload; and the gateway never registers the module
// itself (the creator's own account does). A module's page lists its versions once published.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { privateKeyToAccount } from "viem/accounts";
import { keccak256, toHex } from "viem";
import { getModule, publishModule } from "@lily/chain";
import { cidForBytes, cidForRecord, isLilyError } from "@lily/protocol";
import type { RunningGateway } from "../src/index.ts";
import { MAX_ARTIFACT_BYTES } from "../src/http/publishRoutes.ts";
import { signIn, startGatewayNetwork, type GatewayNetwork } from "./network.ts";

let net: GatewayNetwork;
let gateway: RunningGateway;
let session: string;
const creator = privateKeyToAccount(keccak256(toHex("lily publish routes test: creator")));

const wasm = randomBytes(2048);
const wasmCid = cidForBytes(wasm);

function manifestOf(over: Record<string, unknown> = {}) {
  return cidForRecord({
    name: "upload-test",
    version: "1.0.0",
    description: "a module uploaded through the gateway",
    executor: { kind: "wasm", wasm: wasmCid },
    inputs: {},
    required: [],
    outputs: {},
    resources: { cpu: 1, memoryMb: 64, gpu: 0, vramMb: 0, timeoutSeconds: 10, outputMb: 64 },
    determinism: "deterministic",
    comparator: { kind: "exact" },
    license: "MIT",
    royaltyBps: 0,
    ...over,
  });
}

before(async () => {
  net = await startGatewayNetwork("publish");
  const payer = await net.party("publish gateway");
  gateway = await net.startGateway(payer.account!);
  session = await signIn(gateway.url, creator, net.addresses.chainId);
});
after(() => net?.stop());

async function post(
  path: string,
  body: Uint8Array,
  token?: string,
): Promise<{ status: number; body: { error?: { code: string; param: string | null; message: string } } & Record<string, unknown> }> {
  const res = await fetch(`${gateway.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/octet-stream", ...(token && { authorization: `Bearer ${token}` }) },
    body: body as Uint8Array<ArrayBuffer>,
  });
  return { status: res.status, body: (await res.json()) as never };
}

test("the network's config is public: the chain's RPC URL, its id and the registry's address", async () => {
  const res = await fetch(`${gateway.url}/v1/network/config`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { chainId: net.addresses.chainId, rpcUrl: net.endpoints.rpcUrl, registry: net.endpoints.registry });
});

test("uploads without a session or key are refused (401) and store nothing", async () => {
  const artifact = await post(`/v1/publish/artifacts?cid=${wasmCid}`, wasm);
  assert.equal(artifact.status, 401);
  const manifest = manifestOf();
  assert.equal((await post(`/v1/publish/manifests?cid=${manifest.cid}`, manifest.bytes)).status, 401);
  assert.equal((await post(`/v1/publish/artifacts?cid=${wasmCid}`, wasm, "lily_ss_forged")).status, 401);
  assert.equal(await net.store.has(wasmCid), false);
  assert.equal(await net.store.has(manifest.cid), false);
});

test("bytes that do not hash to the CID named are refused (400 naming cid) and store nothing", async () => {
  const other = randomBytes(2048);
  const res = await post(`/v1/publish/artifacts?cid=${wasmCid}`, other, session);
  assert.equal(res.status, 400);
  assert.equal(res.body.error?.code, "cid_mismatch");
  assert.equal(res.body.error?.param, "cid");
  assert.match(res.body.error!.message, new RegExp(wasmCid));
  assert.equal(await net.store.has(wasmCid), false);
  assert.equal(await net.store.has(cidForBytes(other)), false);

  const manifest = manifestOf();
  const tampered = manifestOf({ description: "tampered" });
  const m = await post(`/v1/publish/manifests?cid=${manifest.cid}`, tampered.bytes, session);
  assert.deepEqual([m.status, m.body.error?.code, m.body.error?.param], [400, "cid_mismatch", "cid"]);
});

test("a missing, malformed or wrong-codec CID is refused naming cid", async () => {
  const cases: [string, Uint8Array][] = [
    ["/v1/publish/artifacts", wasm],
    ["/v1/publish/artifacts?cid=not-a-cid", wasm],
    [`/v1/publish/artifacts?cid=${manifestOf().cid}`, wasm], // a record's CID where a raw block's is due
    [`/v1/publish/manifests?cid=${wasmCid}`, manifestOf().bytes],
  ];
  for (const [path, body] of cases) {
    const res = await post(path, body, session);
    assert.deepEqual([res.status, res.body.error?.param], [400, "cid"], path);
  }
});

test("an artifact over the size limit is refused with 413", async () => {
  const big = new Uint8Array(MAX_ARTIFACT_BYTES + 1);
  const res = await post(`/v1/publish/artifacts?cid=${cidForBytes(big)}`, big, session);
  assert.equal(res.status, 413);
  assert.equal(await net.store.has(cidForBytes(big)), false);
});

test("a manifest is refused before its artifact is stored, or when it names someone else as creator", async () => {
  const early = manifestOf();
  const res = await post(`/v1/publish/manifests?cid=${early.cid}`, early.bytes, session);
  assert.deepEqual([res.status, res.body.error?.param], [400, "manifest.executor.wasm"]);
  assert.equal(await net.store.has(early.cid), false);

  const notMine = manifestOf({ creator: net.deployer.account!.address, royaltyBps: 500 });
  const forged = await post(`/v1/publish/manifests?cid=${notMine.cid}`, notMine.bytes, session);
  assert.deepEqual([forged.status, forged.body.error?.param], [403, "manifest.creator"]);

  const invalid = manifestOf({ version: "1.0" });
  const bad = await post(`/v1/publish/manifests?cid=${invalid.cid}`, invalid.bytes, session);
  assert.deepEqual([bad.status, bad.body.error?.param], [400, "manifest.version"]);
});

test("the artifact and then the manifest are stored under their CIDs, and the gateway registers nothing", async () => {
  const artifact = await post(`/v1/publish/artifacts?cid=${wasmCid}`, wasm, session);
  assert.deepEqual([artifact.status, artifact.body.cid], [201, wasmCid]);
  const manifest = manifestOf({ creator: creator.address, royaltyBps: 250 });
  const stored = await post(`/v1/publish/manifests?cid=${manifest.cid}`, manifest.bytes, session);
  assert.deepEqual([stored.status, stored.body], [201, { cid: manifest.cid, ref: "upload-test@1.0.0" }]);
  assert.deepEqual(await net.store.getBytes(manifest.cid), manifest.bytes);
  await assert.rejects(getModule(net.deployer, { name: "upload-test", version: "1.0.0" }), (e) => isLilyError(e, "UNKNOWN_MODULE"));
});

test("a module's page: 404 before it is registered, then its entry and versions once its creator registers it", async () => {
  const unknown = await fetch(`${gateway.url}/v1/catalog/upload-test`);
  assert.equal(unknown.status, 404);
  const malformed = await fetch(`${gateway.url}/v1/catalog/Not_A_Name`);
  assert.equal(malformed.status, 400);
  assert.equal(((await malformed.json()) as { error: { param: string } }).error.param, "name");

  const own = net.clientFor(creator);
  await net.fund([own], { eth: 10n ** 18n });
  const manifest = manifestOf({ creator: creator.address, royaltyBps: 250 });
  await publishModule(own, { name: "upload-test", version: "1.0.0", manifestCid: manifest.cid, royaltyBps: 250 });
  const page = await fetch(`${gateway.url}/v1/catalog/upload-test`);
  assert.equal(page.status, 200);
  const body = (await page.json()) as {
    entry: { name: string; creator: string; royaltyBps: number; cid: string };
    versions: { version: string; manifestCid: string }[];
  };
  assert.equal(body.entry.cid, manifest.cid);
  assert.equal(body.entry.creator.toLowerCase(), creator.address.toLowerCase());
  assert.equal(body.entry.royaltyBps, 250);
  assert.deepEqual(
    body.versions.map((v) => [v.version, v.manifestCid]),
    [["1.0.0", manifest.cid]],
  );
});
