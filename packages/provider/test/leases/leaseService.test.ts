// The provider's lease service end to end on real parts: LilyLeases on anvil, the tiny GGUF run by
// node-llama-cpp, the provider's SQLite. A payer proposes leases over HTTP and opens them on chain;
// answers stream token by token with signed receipts; vouchers pay them; a payer that stops paying
// is refused; a client that leaves is charged only for the tokens produced; and a restarted
// provider still knows its leases and vouchers and closes them on chain, where it is paid.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { parseEther, zeroAddress, type Hex } from "viem";
import { INFER_PATH, InferEvent, buildPath, createClient, leaseRoutes, readSse } from "@lily/api";
import { escrowBalance } from "@lily/chain";
import { createForwardingRunner, createLlamaRunner, serveOpenAI, type ModelRunner } from "@lily/executor";
import { createLogger } from "@lily/node-kit";
import {
  LilyError,
  answerCost,
  parse,
  requestDigest,
  responseDigest,
  signRecord,
  toWire,
  verifyAnswerRecord,
  verifyRecord,
  type InferenceRequest,
  type SignedModelOffer,
} from "@lily/protocol";
import { TINY_MODEL_PATH } from "@lily/modules/tinyModel";
import { startLeaseFixture, type LeaseFixture, type LeaseTerms } from "../../../chain/test/leasesFixture.ts";
import { ProviderDb } from "../../src/db.ts";
import { leaseChainOf } from "../../src/leases/leaseChain.ts";
import { watchLostBlocks } from "../../src/lostBlocks.ts";
import { settleDelaySeconds } from "../../src/leases/nextLeaseStep.ts";
import { defaultLeaseServiceOptions, startLeaseService, type RunningLeaseService } from "../../src/leases/startLeaseService.ts";
import type { ServedModel } from "../../src/leases/servedModel.ts";
import { tempDir } from "../../../../test/support/tempDir.ts";

const MODEL = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"; // the fixture's leases name it
const logger = createLogger({ module: "lease-test", level: (process.env.LILY_TEST_LOG as "info" | undefined) ?? "error" });

let lf: LeaseFixture;
let runner: ModelRunner;
let dir: string;
let db: ProviderDb;
let service: RunningLeaseService;
let client: ReturnType<typeof createClient<typeof leaseRoutes>>;
const posted: SignedModelOffer[] = [];
/** The provider's clock follows the chain's (moved forward by the tests). */
let offsetMs = 0;
const clock = () => Date.now() + offsetMs;

async function syncClock(): Promise<void> {
  const block = await lf.f.deployer.publicClient.getBlock({ blockTag: "latest" });
  offsetMs = Math.max(offsetMs, Number(block.timestamp) * 1000 - Date.now());
}

function served(): ServedModel {
  return {
    label: "tiny@1.0.0",
    cid: MODEL,
    inputPricePer1k: parseEther("0.001"),
    outputPricePer1k: parseEther("0.002"),
    collateral: parseEther("5"),
    royalty: { moduleCreator: lf.modelCreator.account!.address, royaltyBps: 1000 },
    runner,
  };
}

async function start(): Promise<RunningLeaseService> {
  db = new ProviderDb(join(dir, "provider.db"));
  service = await startLeaseService(
    { ...defaultLeaseServiceOptions, mediators: [lf.mediator.account!.address], maxOpenDelaySeconds: 600, pollMs: 60_000 },
    {
      account: lf.provider.account!,
      domain: lf.domain,
      db: db.database,
      chain: leaseChainOf(lf.provider),
      models: [served()],
      postOffer: async (o) => posted.push(o),
      logger,
      clock,
    },
  );
  client = createClient(service.url, leaseRoutes);
  return service;
}

async function stop(): Promise<void> {
  await service.close();
  db.close();
}

before(async () => {
  lf = await startLeaseFixture();
  runner = await createLlamaRunner({ modelPath: TINY_MODEL_PATH, gpu: false });
  dir = tempDir("lily-provider-leases-");
  await syncClock();
  await start();
});

after(async () => {
  await stop();
  await runner?.close();
  await lf?.f.stop();
});

/** A lease the payer signed, proposed to the provider; returns its terms, id and both signatures. */
async function propose(terms: LeaseTerms = {}) {
  const signed = await lf.newLease(terms);
  const { id, providerSignature } = await client.proposeLease({ body: toWire({ lease: signed.lease, payerSignature: signed.payerSignature }) as never });
  return { ...signed, id, providerSignature };
}

async function refused(p: Promise<unknown>, field: string, code?: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof LilyError, String(e));
    assert.equal(e.field, field, e.message);
    if (code) assert.equal(e.code, code, e.message);
    return true;
  });
}

const request = (over: Partial<InferenceRequest> = {}): InferenceRequest =>
  ({ kind: "completion", prompt: "Once upon a time", model: MODEL, maxTokens: 24, temperature: 0, topP: 1, seed: 7, stop: [], ...over }) as InferenceRequest;

let tickets = 0;
/** POST infer and read its events; `abortAfter` tokens, the client goes away. A refusal before the stream throws. */
async function infer(id: Hex, req: InferenceRequest, o: { abortAfter?: number; ticket?: string } = {}) {
  const ticket = o.ticket ?? `t${++tickets}`;
  const abort = new AbortController();
  const res = await fetch(`${service.url}${buildPath(INFER_PATH, { id })}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(toWire({ request: req, ticket })),
    signal: abort.signal,
  });
  if (!res.ok) throw LilyError.fromJSON(((await res.json()) as { error: never }).error);
  const events: InferEvent[] = [];
  try {
    for await (const ev of readSse(res.body!)) {
      events.push(parse(InferEvent, { type: ev.event, ...JSON.parse(ev.data) }, "event"));
      if (o.abortAfter !== undefined && events.filter((e) => e.type === "token").length >= o.abortAfter) {
        abort.abort();
        break;
      }
    }
  } catch (e) {
    if (!abort.signal.aborted) throw e;
  }
  return {
    ticket,
    events,
    tokens: events.filter((e) => e.type === "token"),
    done: events.find((e) => e.type === "done") as Extract<InferEvent, { type: "done" }> | undefined,
  };
}

async function pay(id: Hex, amount: bigint, requests: bigint, signer = lf.payer) {
  const voucher = { lease: id, amount, requests };
  const signature = await signRecord(signer.account!, lf.domain, "Voucher", voucher);
  return client.postVoucher({ params: { id }, body: toWire({ voucher, signature }) as never });
}

// ---- proposals ---------------------------------------------------------------------------

test("a lease on the provider's terms is countersigned, and the signature opens it on chain", async () => {
  const p = await propose();
  assert.equal(p.id, p.id.toLowerCase());
  await verifyRecord(lf.domain, "Lease", p.lease, p.providerSignature, { signer: lf.provider.account!.address });
  const again = await client.proposeLease({ body: toWire({ lease: p.lease, payerSignature: p.payerSignature }) as never });
  assert.equal(again.providerSignature, p.providerSignature, "proposing the same lease again gives the same countersignature");
  assert.equal((await client.getLease({ params: { id: p.id } })).state, "proposed");
  await lf.open({ ...p, providerSignature: p.providerSignature });
  assert.equal((await lf.record(p.lease)).state, "open");
});

test("proposals are refused, each naming its field, for every rule the terms break", async () => {
  const now = BigInt(Math.floor(clock() / 1000));
  const cases: [string, LeaseTerms, string, string][] = [
    ["another provider", { provider: lf.provider2.account!.address }, "lease.provider", "INVALID_INPUT"],
    ["a model not served", { model: "bafkreie7q3iidccmpvszul7kudcvvuavuo7u6gzlbobczuk5nqk3b4akba" }, "lease.model", "UNKNOWN_MODULE"],
    ["a lower input price", { inputPricePer1k: parseEther("0.0009") }, "lease.inputPricePer1k", "INVALID_INPUT"],
    ["a lower output price", { outputPricePer1k: parseEther("0.0019") }, "lease.outputPricePer1k", "INVALID_INPUT"],
    ["another collateral", { collateral: parseEther("4") }, "lease.collateral", "INVALID_INPUT"],
    ["a mediator it does not accept", { mediator: lf.mediator2.account!.address }, "lease.mediator", "INVALID_INPUT"],
    ["a royalty to the payer", { moduleCreator: lf.payer.account!.address }, "lease.moduleCreator", "INVALID_INPUT"],
    ["an openBy passed", { openBy: now - 1n }, "lease.openBy", "DEADLINE_PASSED"],
    ["an openBy too far", { openBy: now + 3000n }, "lease.openBy", "INVALID_INPUT"],
    ["a lease too long", { expiresIn: 2 * 86_400 }, "lease.expiresAt", "INVALID_INPUT"],
    ["a budget the payer's escrow cannot lock", { budget: parseEther("1000") }, "lease.budget", "INSUFFICIENT_DEPOSIT"],
  ];
  for (const [why, terms, field, code] of cases) {
    const signed = await lf.newLease(terms);
    await refused(client.proposeLease({ body: toWire({ lease: signed.lease, payerSignature: signed.payerSignature }) as never }), field, code).catch((e) => {
      throw new Error(`${why}: ${e.message}`);
    });
  }
  // Signed by someone other than the payer it names.
  const signed = await lf.newLease();
  const forged = await signRecord(lf.stranger.account!, lf.domain, "Lease", signed.lease);
  await refused(client.proposeLease({ body: toWire({ lease: signed.lease, payerSignature: forged }) as never }), "payerSignature", "BAD_SIGNATURE");
  assert.equal(service.lease(signed.id), undefined, "nothing refused is recorded");
});

test("a provider whose own escrow cannot lock the collateral refuses the lease", async () => {
  // The second mediator holds 1 wei in LilyLeases: as a provider it cannot stake 5 LILY.
  const poor = lf.mediator2;
  const poorDb = new ProviderDb(join(dir, "poor.db"));
  const poorService = await startLeaseService(
    { ...defaultLeaseServiceOptions, mediators: [], maxOpenDelaySeconds: 600, pollMs: 60_000 },
    { account: poor.account!, domain: lf.domain, db: poorDb.database, chain: leaseChainOf(poor), models: [served()], logger, clock },
  );
  try {
    const signed = await lf.newLease({ provider: poor.account!.address, mediator: "0x0000000000000000000000000000000000000000" });
    const poorClient = createClient(poorService.url, leaseRoutes);
    await refused(
      poorClient.proposeLease({ body: toWire({ lease: signed.lease, payerSignature: signed.payerSignature }) as never }),
      "lease.collateral",
      "INSUFFICIENT_DEPOSIT",
    );
  } finally {
    await poorService.close();
    poorDb.close();
  }
});

// ---- answers -----------------------------------------------------------------------------

let open: Awaited<ReturnType<typeof propose>>;

test("a lease is not served before it is open on chain", async () => {
  open = await propose();
  await refused(infer(open.id, request()), "lease", "CONFLICT");
  await lf.open(open);
});

test("an answer streams as several token events, then done with a receipt signed by the provider", async () => {
  const req = request();
  const got = await infer(open.id, req);
  assert.ok(got.tokens.length >= 3, `${got.tokens.length} token events`);
  assert.ok(got.done, "a done event");
  assert.equal(got.events.at(-1)!.type, "done", "done comes last");
  const { response, receipt } = got.done!;
  assert.equal(got.tokens.map((t) => (t as { text: string }).text).join(""), response.text, "the tokens are the answer's text");
  assert.ok(response.outputTokens > 0 && response.outputTokens <= 24);
  await verifyRecord(lf.domain, "Receipt", receipt.receipt, receipt.signature, { signer: lf.provider.account!.address });
  assert.equal(receipt.receipt.lease, open.id);
  assert.equal(receipt.receipt.seq, 1n);
  assert.equal(receipt.receipt.request, requestDigest(req));
  assert.equal(receipt.receipt.response, responseDigest(response));
  await verifyAnswerRecord({ chainId: lf.domain.chainId, leases: lf.leases, lease: open.lease, request: req, response, receipt });
  const status = await client.getLease({ params: { id: open.id } });
  assert.equal(status.state, "open");
  assert.equal(status.requests, 1n);
  assert.equal(status.owed, answerCost(open.lease, response.inputTokens, response.outputTokens));
  // The answer is kept under its ticket.
  const kept = await client.getAnswer({ params: { id: open.id, ticket: got.ticket } });
  assert.deepEqual(kept.response, response);
  // A ticket names one answer.
  await refused(infer(open.id, req, { ticket: got.ticket }), "ticket", "CONFLICT");
});

test("requests naming another model or overflowing the context are refused before anything is paid", async () => {
  const before = await client.getLease({ params: { id: open.id } });
  await refused(infer(open.id, request({ model: "bafkreie7q3iidccmpvszul7kudcvvuavuo7u6gzlbobczuk5nqk3b4akba" })), "request.model", "INVALID_INPUT");
  await refused(infer(open.id, request({ prompt: "word ".repeat(2000) })), "prompt");
  assert.deepEqual(await client.getLease({ params: { id: open.id } }), before);
});

test("vouchers: the payer's latest pays; lower, foreign or forged ones are refused", async () => {
  const status = await client.getLease({ params: { id: open.id } });
  assert.equal((await pay(open.id, status.owed, 1n)).paid, status.owed);
  assert.equal((await pay(open.id, status.owed, 1n)).paid, status.owed, "the same voucher again changes nothing");
  await refused(pay(open.id, status.owed - 1n, 1n), "voucher.amount", "CONFLICT");
  await refused(pay(open.id, status.owed + 10n, 2n, lf.stranger), "signature", "BAD_SIGNATURE");
  const other = `0x${"c".repeat(64)}` as Hex;
  const foreign = { lease: other, amount: status.owed + 10n, requests: 2n };
  const sig = await signRecord(lf.payer.account!, lf.domain, "Voucher", foreign);
  await refused(client.postVoucher({ params: { id: open.id }, body: toWire({ voucher: foreign, signature: sig }) as never }), "voucher.lease", "INVALID_INPUT");
  assert.equal((await client.getLease({ params: { id: open.id } })).paid, status.owed);
});

test("a payer that stops paying is refused once it owes more than the credit, and served again once it pays", async () => {
  let refusal: LilyError | undefined;
  for (let i = 0; i < 8 && !refusal; i++) {
    try {
      await infer(open.id, request({ maxTokens: 8, seed: i }));
    } catch (e) {
      refusal = e as LilyError;
    }
  }
  assert.ok(refusal, "refused within 8 unpaid answers");
  assert.equal(refusal.code, "INSUFFICIENT_DEPOSIT");
  assert.equal(refusal.field, "voucher");
  const status = await client.getLease({ params: { id: open.id } });
  await pay(open.id, status.owed, status.requests);
  const again = await infer(open.id, request({ maxTokens: 8 }));
  assert.ok(again.done);
  const paid = await client.getLease({ params: { id: open.id } });
  await pay(open.id, paid.owed, paid.requests);
});

test("a client that goes away mid-stream stops the generation and is charged only for the tokens produced", async () => {
  const before = await client.getLease({ params: { id: open.id } });
  const got = await infer(open.id, request({ maxTokens: 400, prompt: "A long story:" }), { abortAfter: 3 });
  assert.equal(got.done, undefined);
  // The provider records the cut-short answer as it notices the closed stream.
  let kept: Awaited<ReturnType<typeof client.getAnswer>> | undefined;
  for (let i = 0; i < 100 && !kept; i++) {
    kept = await client.getAnswer({ params: { id: open.id, ticket: got.ticket } }).catch((e) => {
      if (e instanceof LilyError && e.code === "NOT_FOUND") return undefined;
      throw e;
    });
    if (!kept) await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(kept, "the cut-short answer is kept under its ticket");
  assert.equal(kept.response.finishReason, "aborted");
  assert.ok(kept.response.outputTokens >= 3, `${kept.response.outputTokens} tokens produced`);
  assert.ok(kept.response.outputTokens < 400, `generation stopped at ${kept.response.outputTokens} of 400 tokens`);
  await verifyRecord(lf.domain, "Receipt", kept.receipt.receipt, kept.receipt.signature, { signer: lf.provider.account!.address });
  assert.equal(kept.receipt.receipt.outputTokens, kept.response.outputTokens);
  const after = await client.getLease({ params: { id: open.id } });
  assert.equal(after.owed - before.owed, answerCost(open.lease, kept.response.inputTokens, kept.response.outputTokens));
  await pay(open.id, after.owed, after.requests);
});

test("model offers are signed by the provider for each model it serves, naming its lease endpoint", async () => {
  assert.equal(posted.length, 1);
  const { offer, signature } = posted[0]!;
  await verifyRecord(lf.domain, "ModelOffer", offer, signature);
  assert.equal(offer.model, MODEL);
  assert.equal(offer.endpoint, service.url);
  assert.equal(offer.collateral, parseEther("5"));
  assert.deepEqual(offer.mediators, [lf.mediator.account!.address]);
});

test("a model forwarded to an OpenAI-compatible server (`lily model serve`) is served the same way: tokens as they come, a signed receipt", async () => {
  const server = await serveOpenAI(runner, { host: "127.0.0.1", port: 0, modelName: "tiny" });
  const forwarded = createForwardingRunner({ baseUrl: server.url, model: "tiny", contextLength: 512 });
  const fwdDb = new ProviderDb(join(dir, "forwarding.db"));
  const fwd = await startLeaseService(
    { ...defaultLeaseServiceOptions, mediators: [lf.mediator.account!.address], maxOpenDelaySeconds: 600, pollMs: 60_000 },
    {
      account: lf.provider2.account!,
      domain: lf.domain,
      db: fwdDb.database,
      chain: leaseChainOf(lf.provider2),
      models: [{ ...served(), runner: forwarded }],
      logger,
      clock,
    },
  );
  try {
    const signed = await lf.newLease({ provider: lf.provider2.account!.address });
    const fwdClient = createClient(fwd.url, leaseRoutes);
    const { providerSignature } = await fwdClient.proposeLease({ body: toWire({ lease: signed.lease, payerSignature: signed.payerSignature }) as never });
    await lf.open({ ...signed, providerSignature });
    const req = request({ maxTokens: 12 });
    const res = await fetch(`${fwd.url}${buildPath(INFER_PATH, { id: signed.id })}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(toWire({ request: req, ticket: "fwd-1" })),
    });
    const events: InferEvent[] = [];
    for await (const ev of readSse(res.body!)) events.push(parse(InferEvent, { type: ev.event, ...JSON.parse(ev.data) }, "event"));
    const done = events.at(-1) as Extract<InferEvent, { type: "done" }>;
    assert.equal(done.type, "done");
    assert.ok(events.filter((e) => e.type === "token").length >= 3);
    assert.equal(done.response.outputTokens, 12);
    await verifyRecord(lf.domain, "Receipt", done.receipt.receipt, done.receipt.signature, { signer: lf.provider2.account!.address });
    assert.equal(done.receipt.receipt.response, responseDigest(done.response));
  } finally {
    await fwd.close();
    fwdDb.close();
    await server.close();
  }
});

// ---- settlement --------------------------------------------------------------------------

test("a restarted provider keeps its leases and vouchers, closes them on chain and is paid, then takes its collateral back", async () => {
  const before = await client.getLease({ params: { id: open.id } });
  assert.ok(before.paid > 0n);
  await stop();
  await start();
  const kept = await client.getLease({ params: { id: open.id } });
  assert.deepEqual(kept, before, "the restarted provider knows the lease, what it is owed and the latest voucher");
  const escrow = () => escrowBalance(lf.f.deployer, { account: lf.provider.account!.address, escrow: lf.leases });
  const balance = await escrow();

  // Service ends; a little later the provider closes with the latest voucher.
  await lf.timeTo(open.lease, BigInt(settleDelaySeconds(Number(lf.claimWindow))));
  await syncClock();
  await refused(infer(open.id, request()), "lease", "DEADLINE_PASSED");
  await service.pass();
  const record = await lf.record(open.lease);
  assert.equal(record.state, "closed");
  assert.equal(record.paid, kept.paid);
  assert.equal(record.requests, kept.requests);
  const royalty = (kept.paid * 1000n) / 10_000n;
  assert.equal(await escrow(), balance + kept.paid - royalty, "the provider's escrow shows the payment less the royalty");
  assert.equal(service.lease(open.id)!.state, "closed");
  await service.pass();
  assert.equal(service.lease(open.id)!.collateral, "locked", "the collateral stays through the audit window");

  // After the audit window the collateral comes back, once.
  await lf.timeTo(open.lease, lf.auditWindow + 1n);
  await syncClock();
  const beforeRelease = await escrow();
  await stop();
  await start();
  // Every lease it opened (this one and the first test's) holds its collateral until now.
  const locked = service.leases().filter((l) => l.collateral === "locked");
  assert.equal(locked.length, 2);
  await service.pass();
  assert.equal(await escrow(), beforeRelease + 2n * open.lease.collateral);
  assert.equal((await lf.record(open.lease)).collateral, "released");
  assert.equal(service.lease(open.id)!.collateral, "released");
  await service.pass();
  assert.equal(await escrow(), beforeRelease + 2n * open.lease.collateral, "released once");
});

// ---- lost blocks -------------------------------------------------------------------------

test("a lease without a mediator whose close the chain node lost is closed again while its claim window is open", async () => {
  // Without a mediator, closing releases the collateral at once and the provider stops following the lease.
  const free = await propose({ mediator: zeroAddress, mediationFee: 0n, auditBps: 0, expiresIn: 600 });
  await lf.open(free);
  await infer(free.id, request({ maxTokens: 8 }));
  const status = await client.getLease({ params: { id: free.id } });
  assert.ok(status.owed > 0n);
  await pay(free.id, status.owed, status.requests);
  await lf.timeTo(free.lease, BigInt(settleDelaySeconds(Number(lf.claimWindow))));
  await syncClock();

  const rpc = (method: string, params: unknown[] = []) => lf.f.deployer.publicClient.request({ method, params } as never) as Promise<unknown>;
  const snapshot = await rpc("evm_snapshot");
  await service.pass();
  await service.pass();
  assert.equal((await lf.record(free.lease)).state, "closed");
  assert.equal(service.lease(free.id)!.collateral, "released", "closed and its collateral back: no longer followed");
  // What anvil does across a stop that loses its last blocks: the confirmed close (and the payment) is gone.
  assert.equal(await rpc("evm_revert", [snapshot]), true);
  assert.equal((await lf.record(free.lease)).state, "open", "past the claim window the payer could reclaim the whole budget");

  const watch = watchLostBlocks({ db, chain: lf.provider, logger, clock, onLost: () => undefined, leases: service });
  watch.check();
  await watch.running;
  await service.pass();
  const record = await lf.record(free.lease);
  assert.equal(record.state, "closed", "closed again");
  assert.equal(record.paid, status.owed, "with the payer's latest voucher");
  assert.equal(service.lease(free.id)!.state, "closed");
});
