// The provider against a real chain, store and solver: what it does when the job creator empties
// its escrow, withdraws its inputs, or opens deals at once; and how it settles a replica group
// with a silent member. Every balance a deal can move is checked to the wei.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { parseEther, type Hex } from "viem";
import { challenge, createLilyClient, dealState, deposit, getDealLogs, openDeal, withdraw } from "@lily/chain";
import { JOB_FAILURE_FILE, JOB_REFUSED_EXIT_CODE, createWasmExecutor } from "@lily/executor";
import { Policy, hashRecord, isLilyError, signRecord, type DealRecord, type ResultManifest } from "@lily/protocol";
import { ProviderDb } from "../src/db.ts";
import type { RunningProvider } from "../src/provider.ts";
import type { ProviderStrategy } from "../src/strategy.ts";
import { COLLATERAL, PRICE, eventually, startNetwork, type Network } from "./network.ts";
import { blockPath } from "./proposals.ts";
import { startFaultyRpc } from "./faultyRpc.ts";
import { startDownProxy } from "./downProxy.ts";
import { createClient, solverRoutes, type Client, type SolverRoutes } from "@lily/api";

async function network(t: TestContext): Promise<Network> {
  const net = await startNetwork();
  t.after(() => net.stop());
  return net;
}

const local = (p: RunningProvider, id: Hex) => p.deals().find((d) => d.id === id.toLowerCase());
const statusOf = (p: RunningProvider, id: Hex, status: string) => eventually(`deal ${id.slice(0, 10)} ${status}`, () => local(p, id)?.status === status);

/** The job's deals, once every one of them carries its provider's signature. */
function signedByProviders(net: Network, jobOfferId: Hex, k = 1): Promise<DealRecord[]> {
  return eventually("the providers' signatures", async () => {
    const deals = await net.dealsOf(jobOfferId);
    return deals.length === k && deals.every((d) => d.providerSignature) ? deals : undefined;
  });
}

/** A WASM executor whose jobs start only once `release` is called. */
function gatedExecutor() {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const real = createWasmExecutor();
  const executor = {
    ...real,
    start: async (spec: Parameters<typeof real.start>[0]) => {
      await gate;
      return real.start(spec);
    },
  };
  return { executor, release };
}

async function stdoutOf(net: Network, resultCid: string): Promise<string> {
  const result = await net.store.getRecord<ResultManifest>(resultCid);
  assert.equal(result.exitCode, 0, `the module ran: ${JSON.stringify(result.files)}`);
  return new TextDecoder().decode(await net.store.getBytes(result.files.stdout!));
}

/** A solver client that notes the provider's status reports and its reads of job offers. */
function watchedSolver(net: Network) {
  const real = createClient(net.endpoints.solverUrl, solverRoutes);
  const reports: { status: string; txHash: Hex }[] = [];
  let jobOfferReads = 0;
  const solver: Client<SolverRoutes> = {
    ...real,
    postDealStatus: (i) => {
      reports.push({ status: i.body.progress.status, txHash: i.body.progress.txHash as Hex });
      return real.postDealStatus(i);
    },
    getJobOffer: (i) => {
      jobOfferReads++;
      return real.getJobOffer(i);
    },
  };
  return { solver, reports, jobOfferReads: () => jobOfferReads };
}

test("a job that starts as its deal opens costs the solver one report, not two: running, naming the opening", async (t) => {
  const net = await network(t);
  const { solver, reports } = watchedSolver(net);
  const provider = await net.startProvider(net.providers[0]!, { deps: { solver } });
  const job = await net.postJob({ inputs: await net.store.putRecord({ message: "one report" }) });
  const [deal] = await signedByProviders(net, job.id);
  await net.signAsJobCreator(deal!);
  await statusOf(provider, deal!.id, "settled");
  const opening = (await getDealLogs(net.deployer, { dealId: deal!.id })).find((e) => e.name === "DealOpened");
  assert.ok(opening, "the deal opened on chain");
  assert.deepEqual(reports, [{ status: "running", txHash: opening.txHash }]);
  const [record] = await net.dealsOf(job.id);
  assert.equal(record!.openTx, opening.txHash, "the solver knows the opening");
});

test("a proposal is checked against the job offer the solver listed with it: no request of its own", async (t) => {
  const net = await network(t);
  const { solver, jobOfferReads } = watchedSolver(net);
  const provider = await net.startProvider(net.providers[0]!, { deps: { solver } });
  const before = await net.ledger();
  const jobs = await Promise.all([1, 2].map(async (i) => net.postJob({ inputs: await net.store.putRecord({ message: `listed ${i}` }) })));
  for (const job of jobs) {
    const [deal] = await signedByProviders(net, job.id);
    await net.signAsJobCreator(deal!);
    await statusOf(provider, deal!.id, "settled");
  }
  assert.equal((await net.ledger()).providers[0], before.providers[0]! + 2n * PRICE, "both jobs checked, signed, run and paid");
  assert.equal(jobOfferReads(), 0);
});

test("a provider whose own opening failed because the job creator emptied its escrow still runs the job when the job creator opens it before openBy, and is paid", async (t) => {
  const net = await network(t);
  const provider = await net.startProvider(net.providers[0]!);
  const before = await net.ledger();
  const job = await net.postJob({ inputs: await net.store.putRecord({ message: "opened by the job creator" }) });
  const [deal] = await signedByProviders(net, job.id);

  // The job creator empties its escrow and only then signs: the provider's opening is refused.
  await withdraw(net.jobCreator, { amount: before.jobCreator });
  const jobCreatorSig = await net.signAsJobCreator(deal!);
  await eventually("the provider's own opening refused", () => local(provider, deal!.id)?.openRefused);
  assert.equal(await dealState(net.deployer, { dealId: deal!.id }), "none");

  // Then it funds its escrow again and opens the deal itself, before openBy.
  await deposit(net.jobCreator, { amount: before.jobCreator });
  await openDeal(net.jobCreator, { deal: deal!.deal, jobCreatorSig, providerSig: deal!.providerSignature! });
  await statusOf(provider, deal!.id, "settled");

  assert.match(await stdoutOf(net, local(provider, deal!.id)!.resultCid!), /opened by the job creator/);
  const after = await net.ledger();
  assert.equal(after.jobCreator, before.jobCreator - PRICE, "the job creator paid the price");
  assert.deepEqual(after.providers, [before.providers[0]! + PRICE, ...before.providers.slice(1)], "the provider was paid and its collateral returned");
  assert.equal(after.locked, 0n);
});

test("a job whose inputs vanish from the store after the provider signed still runs, from what the provider kept", async (t) => {
  const net = await network(t);
  const provider = await net.startProvider(net.providers[0]!);
  const before = await net.ledger();
  const inputs = await net.store.putRecord({ message: "kept by the provider" });
  const job = await net.postJob({ inputs });
  const [deal] = await signedByProviders(net, job.id);

  rmSync(blockPath(net.storeDir, inputs));
  assert.equal(await net.store.has(inputs), false, "the inputs are gone from the store");
  await net.signAsJobCreator(deal!);
  await statusOf(provider, deal!.id, "settled");

  assert.match(await stdoutOf(net, local(provider, deal!.id)!.resultCid!), /kept by the provider/);
  const after = await net.ledger();
  assert.equal(after.jobCreator, before.jobCreator - PRICE);
  assert.equal(after.providers[0], before.providers[0]! + PRICE);
  assert.equal(after.locked, 0n);
});

test("a job whose inputs are gone everywhere when it runs ends in a committed failure naming them: the provider is paid, not slashed", async (t) => {
  const net = await network(t);
  const dir = join(net.storeDir, "..", "forgetful-provider");
  const provider = await net.startProvider(net.providers[0]!, { dir });
  const before = await net.ledger();
  const inputs = await net.store.putRecord({ message: "nobody keeps this" });
  const job = await net.postJob({ inputs });
  const [deal] = await signedByProviders(net, job.id);

  // Gone from the store and from the provider's own copy (as for a deal signed before it kept one).
  rmSync(blockPath(net.storeDir, inputs));
  rmSync(join(dir, "work", "jobs", deal!.id.toLowerCase()), { recursive: true });
  await net.signAsJobCreator(deal!);
  await statusOf(provider, deal!.id, "settled");

  const result = await net.store.getRecord<ResultManifest>(local(provider, deal!.id)!.resultCid!);
  assert.equal(result.exitCode, JOB_REFUSED_EXIT_CODE);
  assert.deepEqual(Object.keys(result.files), [JOB_FAILURE_FILE]);
  const failure = JSON.parse(new TextDecoder().decode(await net.store.getBytes(result.files[JOB_FAILURE_FILE]!)));
  assert.deepEqual([failure.code, failure.field], ["INPUTS_UNAVAILABLE", "inputs"]);
  const after = await net.ledger();
  assert.equal(after.jobCreator, before.jobCreator - PRICE, "the job creator pays for the provider's diligence");
  assert.equal(after.providers[0], before.providers[0]! + PRICE, "the provider is paid and keeps its collateral");
  assert.equal(after.locked, 0n);
});

test("when a deal whose inputs vanished is disputed, the provider puts the job back into the store for the mediator, and unwinds the dispute if nobody rules in time", async (t) => {
  const net = await network(t);
  const provider = await net.startProvider(net.providers[0]!);
  const before = await net.ledger();
  const inputs = await net.store.putRecord({ message: "for the mediator" });
  const job = await net.postJob({ inputs, policy: Policy.optimistic, policyParam: 600n, mediators: [net.mediator], mediationFee: parseEther("1") });
  const [deal] = await signedByProviders(net, job.id);
  rmSync(blockPath(net.storeDir, inputs));
  await net.signAsJobCreator(deal!);
  await statusOf(provider, deal!.id, "committed");
  assert.equal(await net.store.has(inputs), false);

  await challenge(net.jobCreator, { deal: deal!.deal, reason: "not what I asked" });
  await eventually("the inputs back in the store", () => local(provider, deal!.id)?.inputsRestored);
  assert.deepEqual(await net.store.getRecord(inputs), { message: "for the mediator" });
  assert.equal(await dealState(net.deployer, { dealId: deal!.id }), "challenged", "the provider waits for the ruling");

  // The mediator never comes: once the mediation timeout has passed the provider unwinds the deal.
  await statusOf(provider, deal!.id, "unwound");
  assert.equal(await dealState(net.deployer, { dealId: deal!.id }), "timedOut");
  assert.deepEqual(await net.ledger(), before, "both parties got back exactly what they locked");
});

test("two deals signed at once by one provider both open and both are paid (no nonce race)", async (t) => {
  const net = await network(t);
  const provider = await net.startProvider(net.providers[0]!);
  const before = await net.ledger();
  const jobs = [await net.postJob(), await net.postJob()];
  const deals = (await Promise.all(jobs.map((j) => signedByProviders(net, j.id)))).flat();
  await Promise.all(deals.map((d) => net.signAsJobCreator(d)));
  for (const d of deals) await statusOf(provider, d.id, "settled");

  const after = await net.ledger();
  assert.equal(after.jobCreator, before.jobCreator - 2n * PRICE);
  assert.equal(after.providers[0], before.providers[0]! + 2n * PRICE);
  assert.equal(after.locked, 0n);
});

test("an opening that fails for a nonce race the account queue could not absorb is retried on the next pass, never declined", async (t) => {
  const net = await network(t);
  // Nine "nonce too low" answers in a row: more than the chain's send queue retries by itself.
  const rpc = await startFaultyRpc(net.anvil.rpcUrl, 9);
  t.after(() => rpc.close());
  const p1 = net.providers[0]!;
  const chain = createLilyClient({ rpcUrl: rpc.url, account: p1.account!, addresses: net.addresses, pollingIntervalMs: 20 });
  const provider = await net.startProvider(p1, { deps: { chain } });
  const before = await net.ledger();
  const job = await net.postJob();
  const [deal] = await signedByProviders(net, job.id);
  await net.signAsJobCreator(deal!);
  await statusOf(provider, deal!.id, "settled");

  assert.equal(rpc.faultsLeft, 0, "the opening did meet the nonce race");
  assert.equal(local(provider, deal!.id)!.openRefused, undefined, "it was not taken for a refusal");
  assert.notEqual((await net.solver.getDeal({ params: { id: deal!.id } })).status, "rejected", "nor reported as one");
  const after = await net.ledger();
  assert.equal(after.jobCreator, before.jobCreator - PRICE);
  assert.equal(after.providers[0], before.providers[0]! + PRICE);
  assert.equal(after.locked, 0n);
});

test("a provider started while its solver does not answer follows the chain, and offers and takes jobs once the solver is back", async (t) => {
  const net = await network(t);
  const proxy = await startDownProxy(net.endpoints.solverUrl);
  t.after(() => proxy.close());
  const p1 = net.providers[0]!;
  const provider = await net.startProvider(p1, { deps: { solver: createClient(proxy.url, solverRoutes, { timeoutMs: 2000 }), watch: undefined } });
  const offered = provider.offerId;
  await assert.rejects(net.solver.getResourceOffer({ params: { id: offered } }), (e) => isLilyError(e, "NOT_FOUND"), "the solver never got its offer");

  proxy.up = true;
  await eventually(
    "the same offer on the solver's book",
    async () => (await net.solver.getResourceOffer({ params: { id: offered } }).catch(() => undefined))?.active,
  );
  const job = await net.postJob();
  const [deal] = await signedByProviders(net, job.id);
  await net.signAsJobCreator(deal!);
  await statusOf(provider, deal!.id, "settled");
});

/** Opens its replica and never delivers: its deadline passes with nothing committed. */
const silent: ProviderStrategy = {
  produceResult: (job) => new Promise((_, reject) => setTimeout(() => reject(new Error(`withheld ${job.dealId}`)), Math.max(0, job.timeLeftMs) + 3000).unref()),
};

test("under replicate(3) the providers open their group whole, claim a silent replica's timeout and tally the group themselves", async (t) => {
  const net = await network(t);
  const [p1, p2, p3] = net.providers as [(typeof net.providers)[0], (typeof net.providers)[0], (typeof net.providers)[0]];
  const honest = [await net.startProvider(p1), await net.startProvider(p2)];
  await net.startProvider(p3, { deps: { strategy: silent } });
  const fee = parseEther("1");
  const before = await net.ledger();
  const job = await net.postJob({ policy: Policy.replicate, policyParam: 3n, mediators: [net.mediator], mediationFee: fee, timeoutSeconds: 5n });
  const deals = await signedByProviders(net, job.id, 3);
  // The job creator signs its replicas and does nothing else: it never opens nor tallies the group.
  for (const d of deals) await net.signAsJobCreator(d);

  const of = (p: typeof p1) => deals.find((d) => d.deal.provider === p.account!.address)!;
  for (const [i, p] of [p1, p2].entries()) await statusOf(honest[i]!, of(p).id, "settled");
  assert.equal(await dealState(net.deployer, { dealId: of(p3).id }), "timedOut");

  const after = await net.ledger();
  assert.equal(after.jobCreator, before.jobCreator - 2n * PRICE + COLLATERAL, "paid the two honest replicas; refunded the silent one and given its collateral");
  assert.deepEqual(after.providers, [before.providers[0]! + PRICE, before.providers[1]! + PRICE, before.providers[2]! - COLLATERAL]);
  assert.equal(after.locked, 0n);
});

test("a restarted provider keeps the offer the solver still holds, sends it again when the solver does not know it, and makes a new one for new terms", async (t) => {
  const net = await network(t);
  const dir = join(net.storeDir, "..", "restarted-provider");
  const first = await net.startProvider(net.providers[0]!, { dir });
  const offered = first.offerId;
  await first.close();

  const second = await net.startProvider(net.providers[0]!, { dir });
  assert.equal(second.offerId, offered, "the offer it made before the restart is still the solver's");
  await second.close();

  // Its newest offer is one the solver never received (as after the solver lost its database).
  const db = new ProviderDb(join(dir, "provider.db"));
  const known = db.offers().at(-1)!.offer;
  const lost = { ...known, nonce: known.nonce + 1n };
  const lostId = hashRecord(net.domain, "ResourceOffer", lost);
  db.putOffer({ id: lostId, offer: lost, signature: await signRecord(net.providers[0]!.account!, net.domain, "ResourceOffer", lost) });
  db.close();
  const third = await net.startProvider(net.providers[0]!, { dir });
  assert.equal(third.offerId, lostId, "an offer unknown to the solver is sent to it again");
  assert.equal((await net.solver.getResourceOffer({ params: { id: lostId } })).active, true);
  await third.close();

  const other = await net.startProvider(net.providers[0]!, { dir, opts: { price: PRICE + 1n } });
  assert.notEqual(other.offerId, offered, "new terms, a new offer");
  assert.equal((await net.solver.getResourceOffer({ params: { id: other.offerId } })).active, true);
});

test("a deal whose opening the chain node lost (restarted without its last blocks) is opened again by the provider, run and paid", async (t) => {
  const net = await network(t);
  // The job waits at the executor until the chain has lost the opening, so the loss lands between opening and commit.
  const { executor, release } = gatedExecutor();
  const provider = await net.startProvider(net.providers[0]!, { deps: { executor } });
  const before = await net.ledger();
  const job = await net.postJob({ inputs: await net.store.putRecord({ message: "opened twice" }) });
  const [deal] = await signedByProviders(net, job.id);

  const rpc = (method: string, params: unknown[] = []) => net.deployer.publicClient.request({ method, params } as never) as Promise<unknown>;
  const snapshot = await rpc("evm_snapshot");
  await net.signAsJobCreator(deal!);
  await statusOf(provider, deal!.id, "opened");
  assert.equal(await dealState(net.deployer, { dealId: deal!.id }), "open");
  // What anvil does across a stop that loses its last blocks: the confirmed opening is gone.
  assert.equal(await rpc("evm_revert", [snapshot]), true);
  assert.equal(await dealState(net.deployer, { dealId: deal!.id }), "none");
  release();

  await statusOf(provider, deal!.id, "settled");
  assert.match(await stdoutOf(net, local(provider, deal!.id)!.resultCid!), /opened twice/);
  const after = await net.ledger();
  assert.equal(after.jobCreator, before.jobCreator - PRICE, "the job creator paid the price once");
  assert.deepEqual(after.providers, [before.providers[0]! + PRICE, ...before.providers.slice(1)], "the provider was paid and its collateral returned");
  assert.equal(after.locked, 0n);
});

test("a result commit the chain node lost after it settled the deal (restarted without its last blocks) is committed again before the deadline, and the provider is paid, not slashed", async (t) => {
  const net = await network(t);
  // The job waits at the executor until the snapshot is taken, so the commit lands after it.
  const { executor, release } = gatedExecutor();
  const provider = await net.startProvider(net.providers[0]!, { deps: { executor } });
  const before = await net.ledger();
  const job = await net.postJob({ inputs: await net.store.putRecord({ message: "committed twice" }) });
  const [deal] = await signedByProviders(net, job.id);
  await net.signAsJobCreator(deal!);
  await statusOf(provider, deal!.id, "opened");

  const rpc = (method: string, params: unknown[] = []) => net.deployer.publicClient.request({ method, params } as never) as Promise<unknown>;
  const snapshot = await rpc("evm_snapshot");
  release();
  await statusOf(provider, deal!.id, "settled");
  assert.equal(await dealState(net.deployer, { dealId: deal!.id }), "settled");
  // What anvil does across a stop that loses its last blocks: the confirmed commit (and the payment) is gone.
  assert.equal(await rpc("evm_revert", [snapshot]), true);
  assert.equal(await dealState(net.deployer, { dealId: deal!.id }), "open");

  await eventually("the result committed again", async () => (await dealState(net.deployer, { dealId: deal!.id })) === "settled");
  await statusOf(provider, deal!.id, "settled");
  assert.match(await stdoutOf(net, local(provider, deal!.id)!.resultCid!), /committed twice/);
  const after = await net.ledger();
  assert.equal(after.jobCreator, before.jobCreator - PRICE, "the job creator paid the price once");
  assert.deepEqual(after.providers, [before.providers[0]! + PRICE, ...before.providers.slice(1)], "the provider was paid and its collateral returned");
  assert.equal(after.locked, 0n);
});
