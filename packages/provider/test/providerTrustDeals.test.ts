// A provider on a network that names LilyTrustDeals, end to end against a real chain, store and
// solver: trust jobs open in LilyTrustDeals batches and settle in one call per batch (read back
// from the chain: every transaction the provider sent, by contract and function), the provider is
// paid in the trust escrow to the wei; a deal the job creator opened itself is still run and
// settled, by a provider restarted on the same database; so is a deal whose provider restarted
// between opening and settling; a non-trust deal still goes to LilyDeals. And an attack: a job
// creator signature over another deal (another nonce) handed to the provider is refused before
// anything is sent.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { decodeFunctionData, isAddressEqual, parseEther, type Hex } from "viem";
import {
  dealState,
  devAccounts,
  lilyDealsAbi,
  lilyTrustDealsAbi,
  openTrustDeals,
  routedTrustDeal,
  signDealFor,
  trustDealState,
  verifyDealSignature,
  type LilyClient,
} from "@lily/chain";
import { createClient, solverRoutes, watchChanges } from "@lily/api";
import { createWasmExecutor } from "@lily/executor";
import { Policy, type DealRecord } from "@lily/protocol";
import { chainBatchesOf } from "../src/batch/chainBatches.ts";
import { routedOf } from "../src/db.ts";
import { honestStrategy, type ProviderStrategy } from "../src/strategy.ts";
import type { ProviderDeps, RunningProvider } from "../src/provider.ts";
import { PRICE, eventually, startNetwork, type Network } from "./network.ts";

const JOBS = 4;

async function trustNetwork(t: TestContext): Promise<Network> {
  const net = await startNetwork({ trustDeals: true });
  t.after(() => net.stop());
  return net;
}

/** The deals the solver proposed for these jobs, once the provider signed every one. */
async function signedByProvider(net: Network, jobIds: Hex[]): Promise<DealRecord[]> {
  return eventually(
    "the provider's signature on every deal",
    async () => {
      const deals = (await Promise.all(jobIds.map((id) => net.dealsOf(id)))).flat();
      return deals.length === jobIds.length && deals.every((d) => d.providerSignature) ? deals : undefined;
    },
    60_000,
  );
}

const local = (p: RunningProvider, id: Hex) => p.deals().find((l) => l.id === id.toLowerCase());
const statusOf = (p: RunningProvider, id: Hex, status: string) =>
  eventually(`deal ${id.slice(0, 10)} ${status}`, () => local(p, id)?.status === status, 60_000).catch((e) => {
    throw new Error(`${e.message} (it is ${local(p, id)?.status}: ${local(p, id)?.error ?? local(p, id)?.openRefused ?? ""})`);
  });
/** The deal's state on LilyTrustDeals, under the nonce its provider posted with its signature. */
const trustState = (net: Network, d: DealRecord) => {
  assert.notEqual(d.trustNonce, undefined, `deal ${d.id.slice(0, 10)} has a trust nonce`);
  return trustDealState(net.deployer, { provider: d.deal.provider, nonce: d.trustNonce! });
};

/** Every transaction `from` sent in blocks [fromBlock, head], as contract:function. */
async function callsBy(net: Network, from: LilyClient, fromBlock: bigint): Promise<string[]> {
  const calls: string[] = [];
  const head = await net.deployer.publicClient.getBlockNumber();
  for (let b = fromBlock; b <= head; b++) {
    const block = await net.deployer.publicClient.getBlock({ blockNumber: b, includeTransactions: true });
    for (const tx of block.transactions) {
      if (!isAddressEqual(tx.from, from.account!.address)) continue;
      const trust = tx.to !== null && isAddressEqual(tx.to, net.addresses.trustDeals!);
      const { functionName } = decodeFunctionData({ abi: trust ? lilyTrustDealsAbi : lilyDealsAbi, data: tx.input });
      calls.push(`${trust ? "LilyTrustDeals" : "LilyDeals"}:${functionName}`);
    }
  }
  return calls;
}

/** Holds every job's result until all `n` are ready, then lets them go in the same turn: results ready together. */
function togetherStrategy(n: number): ProviderStrategy {
  let waiting = 0;
  let release!: () => void;
  const all = new Promise<void>((r) => (release = r));
  return {
    async produceResult(job, ctx) {
      const outcome = await honestStrategy.produceResult(job, ctx);
      if (++waiting === n) release();
      await all;
      return outcome;
    },
  };
}

/** An executor whose jobs wait until `release()`: the test decides when results are ready. */
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

const rpcOf =
  (net: Network) =>
  (method: string, params: unknown[] = []) =>
    net.deployer.publicClient.request({ method, params } as never) as Promise<unknown>;

test(`${JOBS} trust jobs at once open in LilyTrustDeals batches and settle in one call per batch; the provider is paid in the trust escrow`, async (t) => {
  const net = await trustNetwork(t);
  const p = net.providers[0]!;
  const startedAt = BigInt(Math.floor(Date.now() / 1000));
  const provider = await net.startProvider(p, {
    opts: { resources: { cpu: JOBS, memoryMb: 64 * JOBS, gpu: 0, vramMb: 0 } },
    deps: { strategy: togetherStrategy(JOBS) },
  });
  const trust = net.addresses.trustDeals!;
  const [before, dealsBefore] = [await net.ledger(trust), await net.ledger()];
  const fromBlock = (await net.deployer.publicClient.getBlockNumber()) + 1n;

  const jobs = await Promise.all(Array.from({ length: JOBS }, () => net.postJob()));
  const deals = await signedByProvider(
    net,
    jobs.map((j) => j.id),
  );
  // Numbered in sequence from a fresh database's start (the second it first signed, shifted 20 bits),
  // and each signature the solver holds is over the TrustDeal under the deal's own nonce.
  const nonces = deals.map((d) => d.trustNonce!).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  assert.deepEqual(
    nonces,
    nonces.map((_, i) => nonces[0]! + BigInt(i)),
    "consecutive nonces",
  );
  const startSecond = nonces[0]! >> 20n;
  assert.ok(startSecond >= startedAt && startSecond <= BigInt(Math.floor(Date.now() / 1000)), `the sequence starts at a second of this run: ${startSecond}`);
  for (const d of deals) {
    assert.equal(local(provider, d.id)!.trustNonce, d.trustNonce, "the nonce posted is the one kept");
    await verifyDealSignature(net.addresses, routedOf(d), d.providerSignature!, { signer: p.account!.address, field: "providerSignature" });
  }
  await Promise.all(deals.map((d) => net.signAsJobCreator(d)));
  for (const d of deals) await statusOf(provider, d.id, "settled");

  const calls = await callsBy(net, p, fromBlock);
  const count = (c: string) => calls.filter((x) => x === c).length;
  const batchesOpened = new Set(deals.map((d) => local(provider, d.id)!.trustBatchNo));
  t.diagnostic(`provider transactions for ${JOBS} trust jobs: ${calls.join(", ")}; opened in ${batchesOpened.size} batch(es)`);
  assert.ok(
    calls.every((c) => c === "LilyTrustDeals:openDeals" || c === "LilyTrustDeals:settleDeals"),
    `only LilyTrustDeals openings and settlements: ${calls.join(", ")}`,
  );
  assert.ok(count("LilyTrustDeals:openDeals") < JOBS, "at least one opening carried several deals");
  assert.equal(count("LilyTrustDeals:openDeals"), batchesOpened.size);
  // Results ready together: one batched call, split into one settleDeals per batch opened.
  assert.deepEqual(chainBatchesOf(p).calls.settle, [JOBS]);
  assert.equal(count("LilyTrustDeals:settleDeals"), batchesOpened.size);

  for (const d of deals) assert.equal(await trustState(net, d), "settled");
  const after = await net.ledger(trust);
  assert.equal(after.jobCreator, before.jobCreator - BigInt(JOBS) * PRICE);
  assert.equal(after.providers[0], before.providers[0]! + BigInt(JOBS) * PRICE, "paid, collateral back");
  assert.equal(after.locked, 0n);
  assert.deepEqual(await net.ledger(), dealsBefore, "LilyDeals' escrow untouched");
  // The signed Result still reaches the solver.
  for (const d of deals)
    await eventually(`the result of ${d.id.slice(0, 10)} at the solver`, async () => (await net.solver.getDeal({ params: { id: d.id } })).result);
});

test("a deal the job creator opened itself (both signatures) while its provider was down is run and settled by the provider restarted", async (t) => {
  const net = await trustNetwork(t);
  const p = net.providers[1]!;
  const dir = `${net.dir}/provider-opened-by-job-creator`;
  const first = await net.startProvider(p, { dir });
  const job = await net.postJob();
  const [deal] = await signedByProvider(net, [job.id]);
  await first.close();

  // The job creator, after its grace, opens the deal itself as sender (its own signature left out).
  const before = await net.ledger(net.addresses.trustDeals!);
  const opened = await openTrustDeals(net.jobCreator, {
    deals: [{ deal: routedTrustDeal(routedOf(deal!)), jobCreatorSig: "0x", providerSig: deal!.providerSignature! }],
  });
  assert.deepEqual(opened.skipped, []);

  const provider = await net.startProvider(net.clientFor(devAccounts[3]!), { dir });
  await statusOf(provider, deal!.id, "settled");
  assert.equal(local(provider, deal!.id)!.trustBatchNo, opened.batchNo, "the batch found on the chain");
  assert.equal(await trustState(net, deal!), "settled");
  const after = await net.ledger(net.addresses.trustDeals!);
  assert.equal(after.providers[1], before.providers[1]! + PRICE);
  assert.equal(after.locked, 0n);
});

test("a provider restarted between opening and settling (a new process on the same database) still settles the deal, once", async (t) => {
  const net = await trustNetwork(t);
  const p = net.providers[2]!;
  const dir = `${net.dir}/provider-restarted`;
  // The first process opens the deal but never produces a result (each attempt fails, to be retried).
  let attempts = 0;
  const stuck: ProviderStrategy = {
    produceResult: async () => {
      attempts++;
      throw new Error("crashing before the result");
    },
  };
  const first = await net.startProvider(p, { dir, deps: { strategy: stuck } });
  const before = await net.ledger(net.addresses.trustDeals!);
  const job = await net.postJob();
  const [deal] = await signedByProvider(net, [job.id]);
  await net.signAsJobCreator(deal!);
  await statusOf(first, deal!.id, "opened");
  await eventually("a run attempted", () => attempts > 0);
  const batchNo = local(first, deal!.id)!.trustBatchNo;
  assert.notEqual(batchNo, undefined, "the batch it opened in is in the database");
  // Opened through the batch path under the nonce the provider keeps for it (and posted to the solver).
  const kept = local(first, deal!.id)!.trustNonce;
  assert.equal(kept, deal!.trustNonce);
  assert.equal(await trustDealState(net.deployer, { provider: p.account!.address, nonce: kept! }), "open");
  await first.close();

  // A new process: a new chain client (nothing in memory), the same database.
  const provider = await net.startProvider(net.clientFor(devAccounts[4]!), { dir });
  await statusOf(provider, deal!.id, "settled");
  assert.equal(local(provider, deal!.id)!.trustBatchNo, batchNo);
  const after = await net.ledger(net.addresses.trustDeals!);
  assert.equal(after.providers[2], before.providers[2]! + PRICE);
  assert.equal(after.jobCreator, before.jobCreator - PRICE);
  assert.equal(after.locked, 0n);
});

test("a non-trust deal on a trust network still opens and commits on LilyDeals", async (t) => {
  const net = await trustNetwork(t);
  const p = net.providers[0]!;
  const provider = await net.startProvider(p);
  const fromBlock = (await net.deployer.publicClient.getBlockNumber()) + 1n;
  const job = await net.postJob({ policy: Policy.optimistic, policyParam: 600n, mediators: [net.mediator], mediationFee: parseEther("1") });
  const [deal] = await signedByProvider(net, [job.id]);
  await net.signAsJobCreator(deal!);
  await statusOf(provider, deal!.id, "committed");
  assert.equal(await dealState(net.deployer, { dealId: deal!.id }), "committed");
  // Never routed to LilyTrustDeals: it took none of the provider's nonces.
  assert.equal(deal!.trustNonce, undefined);
  assert.equal(local(provider, deal!.id)!.trustNonce, undefined);
  assert.deepEqual(await callsBy(net, p, fromBlock), ["LilyDeals:openDeal", "LilyDeals:commitResult"]);
});

test("a job creator signature over another deal (another nonce) handed to the provider is refused (BAD_SIGNATURE, jobCreatorSignature): nothing opens", async (t) => {
  const net = await trustNetwork(t);
  const p = net.providers[0]!;
  // A solver that hands the provider, for one deal, the job creator's real signature over another
  // deal's TrustDeal: in its list and in the records its events carry (either may serve a pass).
  const real = createClient(net.endpoints.solverUrl, solverRoutes);
  let forged: { id: Hex; signature: Hex } | undefined;
  const forge = <D extends { id?: unknown; jobCreatorSignature?: unknown }>(d: D): D =>
    forged && String(d.id).toLowerCase() === forged.id.toLowerCase() && d.jobCreatorSignature ? { ...d, jobCreatorSignature: forged.signature } : d;
  const lying: typeof real = {
    ...real,
    listDeals: async (req) => {
      const r = await real.listDeals(req);
      return { ...r, deals: r.deals.map(forge) };
    },
  };
  const watch: ProviderDeps["watch"] = (onChange) =>
    watchChanges(
      net.endpoints.solverUrl,
      { provider: p.account!.address },
      (hint, event) => {
        const ev = event as { type?: unknown; record?: { id?: unknown } } | undefined;
        onChange(hint, ev?.type === "deal" && ev.record ? { ...ev, record: forge(ev.record) } : event);
      },
      { onOpen: () => onChange(undefined) },
    );
  const provider = await net.startProvider(p, { deps: { solver: lying, watch } });
  const fromBlock = (await net.deployer.publicClient.getBlockNumber()) + 1n;
  const before = await net.ledger(net.addresses.trustDeals!);
  const [victim, other] = await signedByProvider(net, [(await net.postJob()).id, (await net.postJob()).id]);
  forged = { id: victim!.id, signature: await signDealFor(net.jobCreator.account!, net.addresses, routedOf(other!)) };
  await net.signAsJobCreator(victim!);

  const refused = await eventually("the opening refused", () => local(provider, victim!.id)?.openRefused, 60_000);
  assert.match(refused, /jobCreatorSignature/);
  assert.equal(await trustState(net, victim!), "none");
  assert.deepEqual(await callsBy(net, p, fromBlock), [], "nothing was sent");
  assert.deepEqual(await net.ledger(net.addresses.trustDeals!), before);
});

test("a settlement the chain node lost (restarted without its last blocks) is sent again before the deadline: the provider is paid once, not timed out", async (t) => {
  const net = await trustNetwork(t);
  const { executor, release } = gatedExecutor();
  const provider = await net.startProvider(net.providers[0]!, { deps: { executor } });
  const trust = net.addresses.trustDeals!;
  const before = await net.ledger(trust);
  const job = await net.postJob();
  const [deal] = await signedByProvider(net, [job.id]);
  await net.signAsJobCreator(deal!);
  await statusOf(provider, deal!.id, "opened");

  const rpc = rpcOf(net);
  const snapshot = await rpc("evm_snapshot");
  release();
  await statusOf(provider, deal!.id, "settled");
  assert.equal(await trustState(net, deal!), "settled");
  // The settlement's block (and the payment) is gone; the opening stays.
  assert.equal(await rpc("evm_revert", [snapshot]), true);
  assert.equal(await trustState(net, deal!), "open");

  await eventually("the deal settled again", async () => (await trustState(net, deal!)) === "settled", 60_000);
  await statusOf(provider, deal!.id, "settled");
  const after = await net.ledger(trust);
  assert.equal(after.jobCreator, before.jobCreator - PRICE, "the job creator paid once");
  assert.equal(after.providers[0], before.providers[0]! + PRICE, "the provider was paid and its collateral returned");
  assert.equal(after.locked, 0n);
});

test("an opening the chain node lost is opened again in a new batch, and the deal settles against that batch, not the lost one", async (t) => {
  const net = await trustNetwork(t);
  const { executor, release } = gatedExecutor();
  const provider = await net.startProvider(net.providers[0]!, { deps: { executor } });
  const trust = net.addresses.trustDeals!;
  const before = await net.ledger(trust);
  const job = await net.postJob();
  const [deal] = await signedByProvider(net, [job.id]);

  const rpc = rpcOf(net);
  const snapshot = await rpc("evm_snapshot");
  await net.signAsJobCreator(deal!);
  await statusOf(provider, deal!.id, "opened");
  const lostBatch = local(provider, deal!.id)!.trustBatchNo;
  assert.notEqual(lostBatch, undefined);
  assert.equal(await rpc("evm_revert", [snapshot]), true);
  assert.equal(await trustState(net, deal!), "none");
  // Another batch takes the lost batch's number before the provider opens its deal again.
  const other = (await signedByProvider(net, [(await net.postJob()).id]))[0]!;
  await openTrustDeals(net.jobCreator, { deals: [{ deal: routedTrustDeal(routedOf(other)), jobCreatorSig: "0x", providerSig: other.providerSignature! }] });
  release();

  await statusOf(provider, deal!.id, "settled");
  assert.equal(await trustState(net, deal!), "settled");
  assert.notEqual(local(provider, deal!.id)!.trustBatchNo, lostBatch, "settled against the batch it opened in again");
  // Its own deal and the other one (opened by the job creator, run by the provider too) each paid once.
  await statusOf(provider, other.id, "settled");
  const final = await net.ledger(trust);
  assert.equal(final.jobCreator, before.jobCreator - 2n * PRICE, "the job creator paid each deal once");
  assert.equal(final.providers[0], before.providers[0]! + 2n * PRICE);
  assert.equal(final.locked, 0n);
});
