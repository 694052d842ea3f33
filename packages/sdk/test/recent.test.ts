// What a job creator reads again from job to job and cannot change under its key is read once:
// the module's manifest (by CID), the registry's entry for its version (a published version never
// changes) and each provider's resource offer (by id, once it passed a deal's check). A record that failed its check is never kept, so a solver cannot make one stick.
import { test, before, after, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { parseEther, type Hex } from "viem";
import { memoryJournal, createJobCreator, type JobCreator } from "../src/index.ts";
import { Recent } from "../src/recent.ts";
import { PRICE, eventually, startNetwork, type Network } from "./network.ts";
import { tempDir } from "../../../test/support/tempDir.ts";

let net: Network;
before(async () => {
  net = await startNetwork();
});
after(() => net.stop());

const cowsay = (message: string) => ({ module: "cowsay@1.0.0", inputs: { message }, maxPrice: PRICE, mediationFee: parseEther("1") });

/** Counts the store's record reads by CID, the solver's resource offer reads by id and the registry's lookups by function. */
function countReads(jc: JobCreator): { records: Map<string, number>; offers: Map<string, number>; registry: Map<string, number> } {
  const counts = { records: new Map<string, number>(), offers: new Map<string, number>(), registry: new Map<string, number>() };
  const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  const publicClient = jc.context.chain.publicClient;
  const readContract = publicClient.readContract.bind(publicClient);
  publicClient.readContract = ((args: { address: string; functionName: string }) => {
    if (args.address.toLowerCase() === net.addresses.registry?.toLowerCase()) bump(counts.registry, args.functionName);
    return readContract(args as never);
  }) as typeof publicClient.readContract;
  const store = jc.context.store;
  const getRecord = store.getRecord.bind(store);
  store.getRecord = (cid: string) => {
    bump(counts.records, cid);
    return getRecord(cid);
  };
  const real = jc.context.solver;
  jc.context.solver = {
    ...real,
    getResourceOffer: (i) => {
      bump(counts.offers, i.params.id.toLowerCase());
      return real.getResourceOffer(i);
    },
  };
  return counts;
}

/** Submit a job and follow it; its result (still to come) and the proposal the solver made for it. */
async function submitAndPropose(t: TestContext, jc: JobCreator, message: string) {
  const job = await jc.submitJob(cowsay(message));
  const stop = new AbortController();
  t.after(() => stop.abort());
  const result = jc.waitForResult({ jobOfferId: job.jobOfferId, outDir: tempDir("lily-sdk-out-"), signal: stop.signal });
  result.catch(() => {});
  const proposal = await eventually(async () => {
    const { dealIds } = await net.solver.getJobOffer({ params: { id: job.jobOfferId } });
    return dealIds[0] ? net.solver.getDeal({ params: { id: dealIds[0] } }) : undefined;
  });
  return { result, proposal, provider: net.providerOf(proposal.deal.provider) };
}

async function runJob(t: TestContext, jc: JobCreator, message: string): Promise<{ resourceOffer: Hex }> {
  const { result, proposal, provider } = await submitAndPropose(t, jc, message);
  await provider.sign(proposal);
  await eventually(async () => ((await net.solver.getDeal({ params: { id: proposal.id } })).jobCreatorSignature ? true : undefined));
  await provider.open(proposal);
  await provider.commit(proposal, `moo ${message}\n`);
  const r = await result;
  assert.equal(r.stdout, `moo ${message}\n`);
  return { resourceOffer: proposal.deal.resourceOffer };
}

test("three jobs of one module version read its manifest and its registry entry once, and each provider's resource offer once", async (t) => {
  for (const p of net.providers) await p.offer();
  const jc = createJobCreator({ ...net.endpoints, account: net.jobCreator, mediators: [net.mediator] }, { journal: memoryJournal() });
  const counts = countReads(jc);
  const used = new Set<string>();
  for (const m of ["one", "two", "three"]) used.add((await runJob(t, jc, m)).resourceOffer.toLowerCase());
  assert.equal(counts.records.get(net.modules.cowsay), 1, `records read: ${JSON.stringify([...counts.records])}`);
  assert.deepEqual([...counts.registry], [["get", 1]], "cowsay@1.0.0 looked up in the registry once");
  assert.deepEqual([...counts.offers.keys()].sort(), [...used].sort(), "every resource offer used was read");
  for (const [id, n] of counts.offers) assert.equal(n, 1, `resource offer ${id} read ${n} times`);
});

test("a resource offer that fails its check is not kept: a solver that served a forged one once cannot make it stick", async (t) => {
  for (const p of net.providers) await p.offer();
  const jc = createJobCreator({ ...net.endpoints, account: net.jobCreator, mediators: [net.mediator] }, { journal: memoryJournal() });
  const counts = countReads(jc);
  const honest = jc.context.solver.getResourceOffer;
  let forged = 0;
  jc.context.solver = {
    ...jc.context.solver,
    // The first answer carries another signature: the provider never signed these terms so.
    getResourceOffer: async (i) => {
      const record = await honest(i);
      if (forged++ > 0) return record;
      return { ...record, signature: `0x${"11".repeat(32)}${"22".repeat(32)}1b` };
    },
  };
  const { result: waiting, proposal, provider } = await submitAndPropose(t, jc, "forged");
  await provider.sign(proposal);
  const refused = await waiting.then(
    () => assert.fail("a deal on a forged resource offer was signed"),
    (e: unknown) => e,
  );
  assert.match(String(refused), /resourceOffer/);
  assert.equal(jc.context.recent.resourceOffers.get(proposal.deal.resourceOffer.toLowerCase()), undefined, "the forged record was kept");
  // The next job on the same provider's offer asks the solver again, and runs.
  const { resourceOffer } = await runJob(t, jc, "honest");
  assert.ok((counts.offers.get(resourceOffer.toLowerCase()) ?? 0) >= 1);
});

test("Recent keeps the most recently used entries up to its bound", () => {
  const r = new Recent<string, number>(2);
  r.set("a", 1);
  r.set("b", 2);
  assert.equal(r.get("a"), 1); // "a" is now the most recent
  r.set("c", 3);
  assert.deepEqual([r.get("a"), r.get("b"), r.get("c"), r.size], [1, undefined, 3, 2]);
});
