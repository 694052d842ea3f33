// Audits of lease answers, end to end on real parts: anvil with Lily and LilyLeases deployed, a
// real store holding the tiny model's manifest and weights, node-llama-cpp answering as the
// provider and re-running as the mediator, the mediator's HTTP API. An honest answer is judged
// correct and nothing moves; a forged answer the provider signed is judged wrong and its lease
// collateral slashed on chain, once however often it is audited; audits the mediator must refuse
// are refused with the field named, and nothing is recorded or slashed.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { parseEther, type Address, type LocalAccount } from "viem";
import { createClient } from "@lily/api";
import { escrowBalance, leaseRecord, openLease, type LilyClient } from "@lily/chain";
import { createLlamaRunner, type ModelRunner } from "@lily/executor";
import {
  hashRecord,
  isLilyError,
  requestDigest,
  responseDigest,
  signRecord,
  type Domain,
  type InferenceRequest,
  type InferenceResponse,
  type Lease,
  type ModelManifest,
  type Receipt,
} from "@lily/protocol";
import { startLocalNetwork, type LocalNetwork } from "../../../test/support/localNetwork.ts";
import { writeTinyModel } from "../../../modules/scripts/tinyModel.ts";
import { defaultMediatorOptions } from "../src/options.ts";
import { startMediator, type StartedMediator } from "../src/startMediator.ts";
import { mediatorRoutes, type AuditBody } from "@lily/api";
import { testKey } from "./network.ts";
import { eventually } from "./waitFor.ts";

const COLLATERAL = parseEther("5");
const ZERO: Address = `0x${"0".repeat(40)}`;

let net: LocalNetwork;
let leases: Domain;
let payer: LilyClient;
let provider: LilyClient;
let mediatorClient: LilyClient;
let modelPath: string;
let modelCid: string;
/** The provider's copy of the model: it answers the requests. */
let providerModel: ModelRunner;
let mediator: StartedMediator;
let api: ReturnType<typeof createClient<typeof mediatorRoutes>>;

const account = (c: LilyClient) => c.account as LocalAccount;
const fails = (code: string, field?: string) => (e: unknown) => isLilyError(e) && e.code === code && (field === undefined || e.field === field);

before(async () => {
  net = await startLocalNetwork("audit");
  leases = { chainId: net.addresses.chainId, verifyingContract: net.addresses.leases! };
  [payer, provider, mediatorClient] = ["audit payer", "audit provider", "audit mediator"].map((n) => net.clientFor(testKey(n)));
  await net.fund([payer, provider], { eth: parseEther("1"), tokens: parseEther("100"), leasesDeposit: parseEther("100") });
  await net.fund([mediatorClient], { eth: parseEther("1") });

  const written = writeTinyModel(join(net.dir, "tiny.gguf"));
  modelPath = written.path;
  const manifest: ModelManifest = {
    kind: "model",
    name: "lily-tiny-llama",
    version: "0.1.0",
    description: "random weights: its text is noise",
    format: "gguf",
    weights: await net.store.putFile(modelPath),
    sha256: written.sha256,
    sizeBytes: written.sizeBytes,
    contextLength: 512,
    embeddings: false,
    pricing: { inputPer1k: 10n, outputPer1k: 20n },
    comparator: { kind: "exact" },
    license: "MIT",
    royaltyBps: 0,
  };
  modelCid = await net.store.putRecord(manifest);
  providerModel = await createLlamaRunner({ modelPath, gpu: false, embeddings: false });

  mediator = await startMediator(
    {
      ...defaultMediatorOptions,
      ...net.endpoints,
      leases: net.addresses.leases!,
      account: account(mediatorClient),
      dbPath: join(net.dir, "mediator.db"),
      workDir: join(net.dir, "mediator-work"),
      models: [modelPath],
    },
    { logger: net.logger, loadModel: (path) => createLlamaRunner({ modelPath: path, gpu: false, embeddings: false }) },
  );
  api = createClient(mediator.url, mediatorRoutes);
});

after(async () => {
  await mediator?.close();
  await providerModel?.close();
  await net?.stop();
});

let nonce = 0n;
/** A lease both parties signed, opened on chain, naming `mediatorAddress`. */
async function openedLease(mediatorAddress: Address = mediatorClient.account!.address): Promise<Lease> {
  const now = BigInt(Math.floor(Date.now() / 1000));
  const lease: Lease = {
    payer: payer.account!.address,
    provider: provider.account!.address,
    model: modelCid,
    budget: parseEther("1"),
    collateral: COLLATERAL,
    inputPricePer1k: 10n,
    outputPricePer1k: 20n,
    openBy: now + 3600n,
    expiresAt: now + 7200n,
    mediator: mediatorAddress,
    mediationFee: parseEther("1"),
    auditBps: 1000,
    moduleCreator: ZERO,
    royaltyBps: 0,
    nonce: ++nonce,
  };
  const payerSignature = await signRecord(account(payer), leases, "Lease", lease);
  const providerSignature = await signRecord(account(provider), leases, "Lease", lease);
  await openLease(payer, { lease, payerSignature, providerSignature });
  return lease;
}

let seq = 0n;
const request = (prompt: string): InferenceRequest => ({
  kind: "completion",
  prompt,
  model: modelCid,
  maxTokens: 12,
  temperature: 0,
  topP: 1,
  seed: 42,
  stop: [],
});

/** The provider's signed receipt for `response` to `req` under `lease` (signed by `signer`, by default the provider). */
async function audit(lease: Lease, req: InferenceRequest, response: InferenceResponse, signer: LilyClient = provider): Promise<AuditBody> {
  const receipt: Receipt = {
    lease: hashRecord(leases, "Lease", lease),
    provider: lease.provider,
    seq: ++seq,
    request: requestDigest(req),
    response: responseDigest(response),
    inputTokens: response.inputTokens,
    outputTokens: response.outputTokens,
  };
  return { lease, request: req, response, receipt: { receipt, signature: await signRecord(account(signer), leases, "Receipt", receipt) } };
}

const leaseOf = (lease: Lease) => leaseRecord(net.deployer, { leaseId: hashRecord(leases, "Lease", lease) });

test("the mediator's health names its address, so a gateway given its URL learns whom to name in leases", async () => {
  assert.deepEqual(await api.health({}), {
    role: "mediator",
    address: mediatorClient.account!.address,
    chainId: net.addresses.chainId,
    leases: net.addresses.leases,
  });
});

test("an honest answer is judged correct and nothing is slashed", async () => {
  const lease = await openedLease();
  const req = request("Once upon a time");
  const body = await audit(lease, req, await providerModel.generate(req));
  const before = await leaseOf(lease);
  const result = await api.postAudit({ body });
  assert.equal(result.verdict, "correct", result.reason);
  assert.equal(result.txHash, undefined);
  assert.deepEqual(await leaseOf(lease), before);
  // Audited again, it is the same record and still nothing moves.
  assert.deepEqual(await api.postAudit({ body }), result);
  assert.deepEqual(await api.getAudit({ params: { id: result.id } }), result);
});

test("a forged answer the provider signed is judged wrong and its collateral slashed, once however often it is audited", async () => {
  const lease = await openedLease();
  const req = request("The quick brown fox");
  const honest = await providerModel.generate(req);
  const forged: InferenceResponse = { ...honest, text: `${honest.text.slice(0, -1)}!` };
  const body = await audit(lease, req, forged);
  const providerEscrow = () => escrowBalance(net.deployer, { account: provider.account!.address, escrow: net.addresses.leases });
  const mediatorEscrow = () => escrowBalance(net.deployer, { account: mediatorClient.account!.address, escrow: net.addresses.leases });
  const [escrowBefore, feeBefore] = [await providerEscrow(), await mediatorEscrow()];
  const result = await api.postAudit({ body });
  assert.equal(result.verdict, "wrong");
  assert.ok(result.txHash, "a slash transaction");
  assert.equal((await leaseOf(lease)).collateral, "slashed");
  // The collateral was taken, not returned to the provider's free escrow; the mediator got its fee from it.
  assert.equal(await providerEscrow(), escrowBefore);
  assert.equal(await mediatorEscrow(), feeBefore + lease.mediationFee);
  // The same receipt again: the same verdict and transaction, no second slash.
  assert.deepEqual(await api.postAudit({ body }), result);
});

test("a slash the chain node lost after the mediator recorded it is sent again: the collateral is slashed and the mediator paid, once", async () => {
  const lease = await openedLease();
  const req = request("A slash the chain forgot");
  const honest = await providerModel.generate(req);
  const body = await audit(lease, req, { ...honest, text: `${honest.text} (forged)` });
  const mediatorEscrow = () => escrowBalance(net.deployer, { account: mediatorClient.account!.address, escrow: net.addresses.leases });
  const feeBefore = await mediatorEscrow();
  const rpc = (method: string, params: unknown[] = []) => net.deployer.publicClient.request({ method, params } as never) as Promise<unknown>;

  const snapshot = await rpc("evm_snapshot");
  const result = await api.postAudit({ body });
  assert.equal(result.verdict, "wrong");
  assert.equal((await leaseOf(lease)).collateral, "slashed");
  // What anvil does across a stop that loses its last blocks: the confirmed slash is gone.
  assert.equal(await rpc("evm_revert", [snapshot]), true);
  assert.equal((await leaseOf(lease)).collateral, "locked");

  await eventually("the slash sent again", async () => ((await leaseOf(lease)).collateral === "slashed" ? true : undefined), 20_000);
  assert.equal(await mediatorEscrow(), feeBefore + lease.mediationFee);
  assert.equal(mediator.auditor.get(result.id)?.verdict, "wrong");
});

test("audits the mediator must refuse are refused, and nothing is recorded or slashed", async () => {
  const lease = await openedLease();
  const req = request("It was a dark and stormy night");
  const honest = await providerModel.generate(req);
  const wrongText: InferenceResponse = { ...honest, text: "not what the model says" };
  const before = await leaseOf(lease);

  // A receipt the payer signed in the provider's name.
  const unsigned = await audit(lease, req, wrongText, payer);
  await assert.rejects(api.postAudit({ body: unsigned }), fails("BAD_SIGNATURE", "receipt.signature"));
  // An answer other than the one the provider signed.
  const signed = await audit(lease, req, honest);
  await assert.rejects(api.postAudit({ body: { ...signed, response: wrongText } }), fails("INVALID_INPUT", "response"));
  // A lease naming another mediator.
  const elsewhere = await openedLease(net.deployer.account!.address);
  await assert.rejects(api.postAudit({ body: await audit(elsewhere, req, wrongText) }), fails("INVALID_INPUT", "lease.mediator"));
  // A lease the chain never opened.
  const unopened = { ...lease, nonce: 10_000n + ++nonce };
  await assert.rejects(api.postAudit({ body: await audit(unopened, req, wrongText) }), fails("NOT_FOUND", "lease"));

  for (const body of [unsigned, signed]) assert.equal(mediator.auditor.get(hashRecord(leases, "Receipt", body.receipt.receipt)), undefined);
  assert.deepEqual(await leaseOf(lease), before);
});
