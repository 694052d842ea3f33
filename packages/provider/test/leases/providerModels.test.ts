// A provider started with a model to serve, on a real local network: the weights are fetched from
// the store by the manifest's CID and checked against its sha-256 before llama.cpp loads them, the
// lease API starts, and the solver lists the provider's signed model offer naming it. Weights
// that are not the manifest's are refused before anything loads.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parseEther, zeroAddress } from "viem";
import { createClient, leaseRoutes, modelOfferRoutes, solverRoutes } from "@lily/api";
import { devAccounts, type LilyClient } from "@lily/chain";
import { createWasmExecutor } from "@lily/executor";
import { LilyError, ModelManifest, parse, toWire, verifyRecord } from "@lily/protocol";
import { TINY_MODEL_PATH } from "@lily/modules/tinyModel";
import { startLocalNetwork, type LocalNetwork } from "../../../../test/support/localNetwork.ts";
import { defaultProviderOptions } from "../../src/options.ts";
import { startProvider } from "../../src/provider.ts";
import { loadModel, sha256File, type ModelSpec } from "../../src/leases/loadModel.ts";

let net: LocalNetwork;
let provider: LilyClient;
let spec: ModelSpec;

before(async () => {
  net = await startLocalNetwork("provider-models");
  provider = net.clientFor(devAccounts[2]!);
  await net.fund([provider], { tokens: parseEther("100"), deposit: parseEther("10"), leasesDeposit: parseEther("10") });
  const weights = await net.store.putFile(TINY_MODEL_PATH);
  const manifest = parse(
    ModelManifest,
    {
      kind: "model",
      name: "tiny",
      version: "1.0.0",
      description: "the tiny random-weight llama",
      format: "gguf",
      weights,
      sha256: await sha256File(TINY_MODEL_PATH),
      sizeBytes: 1,
      contextLength: 512,
      pricing: { inputPer1k: parseEther("0.001"), outputPer1k: parseEther("0.002") },
      license: "CC0-1.0",
    },
    "manifest",
  );
  const cid = await net.store.putRecord(toWire(manifest));
  spec = { label: "tiny@1.0.0", cid, manifest, royalty: { moduleCreator: zeroAddress, royaltyBps: 0 }, source: { kind: "store" }, collateral: parseEther("1") };
});

after(async () => {
  await net?.stop();
});

test("weights that are not the manifest's are refused before they load, and nothing is kept", async () => {
  const modelsDir = join(net.dir, "bad-models");
  const wrong = { ...spec, manifest: { ...spec.manifest, sha256: "0".repeat(64) } };
  await assert.rejects(
    loadModel(wrong, { store: net.store, modelsDir }),
    (e: unknown) => e instanceof LilyError && e.code === "CID_MISMATCH" && e.field === "model",
  );
  assert.deepEqual(readdirSync(modelsDir), [], "no file left behind");
  await assert.rejects(
    loadModel({ ...wrong, source: { kind: "file", path: TINY_MODEL_PATH } }, { store: net.store, modelsDir }),
    (e: unknown) => e instanceof LilyError && e.code === "CID_MISMATCH",
  );
});

test("a provider serving a model fetches its weights, starts the lease API and posts a signed model offer to the solver", async () => {
  const home = join(net.dir, "provider");
  const running = await startProvider(
    {
      ...defaultProviderOptions,
      ...net.endpoints,
      account: provider.account!,
      dbPath: join(home, "provider.db"),
      workDir: join(home, "work"),
      resources: { cpu: 1, memoryMb: 1024, gpu: 0, vramMb: 0 },
      price: parseEther("1"),
      collateral: parseEther("1"),
      modules: Object.values(net.modules),
      pollMs: 100,
      models: [spec],
    },
    { logger: net.logger, chain: provider, solver: createClient(net.endpoints.solverUrl, solverRoutes), store: net.store, executor: createWasmExecutor() },
  );
  net.onStop(() => running.close());
  assert.ok(running.leaseUrl, "the lease API is up");
  assert.deepEqual(
    running.models.map((m) => [m.cid, m.inputPricePer1k, m.outputPricePer1k]),
    [[spec.cid, parseEther("0.001"), parseEther("0.002")]],
    "served at the manifest's prices",
  );
  assert.ok(existsSync(join(home, "work", "models", `${spec.manifest.sha256}.gguf`)), "the weights are kept by their digest");
  const offers = createClient(net.endpoints.solverUrl, modelOfferRoutes);
  let listed: Awaited<ReturnType<typeof offers.listModelOffers>>["offers"] = [];
  for (let i = 0; i < 100 && listed.length === 0; i++) {
    listed = (await offers.listModelOffers({ query: { model: spec.cid } })).offers;
    if (listed.length === 0) await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(listed.length, 1);
  const { offer, signature } = listed[0]!;
  await verifyRecord({ chainId: net.endpoints.chainId, verifyingContract: net.endpoints.leases }, "ModelOffer", offer, signature);
  assert.equal(offer.provider, provider.account!.address);
  assert.equal(offer.endpoint, running.leaseUrl);
  assert.equal(offer.collateral, parseEther("1"));
  // The endpoint answers the lease API.
  await assert.rejects(
    createClient(running.leaseUrl, leaseRoutes).getLease({ params: { id: `0x${"1".repeat(64)}` } }),
    (e: unknown) => e instanceof LilyError && e.code === "NOT_FOUND",
  );
});
