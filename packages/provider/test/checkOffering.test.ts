// What a provider with per-module terms signs: only modules it offers now (an older offer does
// not bring back a module its lists dropped), a resource-priced job no longer and no larger than
// its price covers, no more deals at once than maxConcurrentJobs, and, with one offer per price,
// capacity its deals hold under one offer is not free again under another.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { ModuleManifest, hashRecord, parse, type ResourceOffer } from "@lily/protocol";
import { checkProposal } from "../src/checkProposal.ts";
import { heldCapacity, heldDeals } from "../src/capacity.ts";
import { moduleInfo, planOffers, type PricedModule } from "../src/pricing.ts";
import type { LocalDeal } from "../src/db.ts";
import { NOW, domain, proposal, startTestStore, type ProposalTerms, type TestStore } from "./proposals.ts";

let ts: TestStore;
let cowsay: ProposalTerms;
let offered: (terms: Parameters<typeof planOffers>[1]) => Map<string, PricedModule>;
before(async () => {
  ts = await startTestStore();
  cowsay = { module: ts.modules.cowsay, inputs: await ts.store.putRecord({ message: "moo" }) };
  const infos = await Promise.all(Object.values(ts.modules).map(async (cid) => moduleInfo(cid, parse(ModuleManifest, await ts.store.getRecord(cid), cid))));
  offered = (terms) => new Map(planOffers(infos, terms).offered.map((p) => [p.module.cid, p]));
});
after(() => ts?.close());

async function verdict(t: ProposalTerms) {
  const p = await proposal(ts, t);
  return checkProposal(p.ctx, p.record, p.job);
}

test("a module its offer allowed but its lists no longer offer is declined with MODULE_NOT_ALLOWED", async () => {
  const v = await verdict({ ...cowsay, ctx: { offered: offered({ price: 3n, deny: ["cowsay"] }) } });
  assert.equal(v.sign, false);
  assert.deepEqual(!v.sign && [v.decline.code, v.decline.field], ["MODULE_NOT_ALLOWED", "module"]);
});

test("a module it still offers is signed", async () => {
  const v = await verdict({ ...cowsay, ctx: { offered: offered({ price: 3n, allow: ["cowsay"] }) } });
  assert.ok(v.sign, v.sign ? "" : v.decline.message);
});

const rates = { cpuSecond: 1n, memoryGbSecond: 1n, gpuSecond: 1n };

type Sized = { cpu: number; memoryMb: number; timeoutSeconds: number };
const overs: [string, (r: Sized) => { cpu?: number; memoryMb?: number; timeoutSeconds?: bigint }, string][] = [
  ["a longer timeout than its price covers", (r) => ({ timeoutSeconds: BigInt(r.timeoutSeconds) + 1n }), "jobOffer.timeoutSeconds"],
  ["more CPUs than its price covers", (r) => ({ cpu: r.cpu + 1 }), "jobOffer.cpu"],
  ["more memory than its price covers", (r) => ({ memoryMb: r.memoryMb + 1 }), "jobOffer.memoryMb"],
];

for (const [what, over, field] of overs) {
  test(`a job priced by resource-seconds asking ${what} is declined, naming ${field}`, async () => {
    const priced = offered({ price: 3n, rates });
    const r = priced.get(ts.modules.cowsay)!.module.resources;
    const sized = { cpu: r.cpu, memoryMb: r.memoryMb, timeoutSeconds: BigInt(r.timeoutSeconds) };
    // The job as the module's manifest sizes it is signed...
    const fits = await verdict({ ...cowsay, job: sized, ctx: { offered: priced } });
    assert.ok(fits.sign, fits.sign ? "" : fits.decline.message);
    // ... one asking for more than its price was computed for is not.
    const v = await verdict({ ...cowsay, job: { ...sized, ...over(r) }, ctx: { offered: priced } });
    assert.equal(v.sign, false);
    assert.equal(!v.sign && v.decline.field, field);
  });
}

test("a module with its own price is not held to its manifest's timeout", async () => {
  const v = await verdict({ ...cowsay, job: { timeoutSeconds: 600n }, ctx: { offered: offered({ price: 3n, rates, prices: { cowsay: 3n } }) } });
  assert.ok(v.sign, v.sign ? "" : v.decline.message);
});

test("a provider whose deals hold maxConcurrentJobs leaves the proposal waiting as busy, naming maxConcurrentJobs", async () => {
  const v = await verdict({ ...cowsay, ctx: { maxJobs: 2, heldJobs: 2 } });
  assert.equal(v.sign, false);
  assert.deepEqual(!v.sign && [v.decline.field, v.busy], ["maxConcurrentJobs", true]);
  assert.ok((await verdict({ ...cowsay, ctx: { maxJobs: 2, heldJobs: 1 } })).sign);
});

test("capacity its deals hold under one of its offers is not free again under another (one offer per price)", async () => {
  // Offer A (cowsay at 3) and offer B (primes at 5): the same machine, each with the whole capacity.
  const common = { cpu: 4, memoryMb: 4096 };
  const a = await proposal(ts, { ...cowsay, resource: { ...common, price: 3n, modules: [ts.modules.cowsay] } });
  const primes = { module: ts.modules.primes, inputs: await ts.store.putRecord({ n: 10 }) };
  const b = await proposal(ts, { ...primes, job: { maxPrice: 5n }, resource: { ...common, price: 5n, modules: [ts.modules.primes], nonce: 2n } });
  // Four one-CPU deals signed under offer A hold every CPU...
  const underA: LocalDeal[] = [1, 2, 3, 4].map((n) => ({
    id: `0x${n.toString(16).padStart(64, "0")}`,
    deal: { ...a.record.deal, resourceOffer: a.resource.id },
    module: ts.modules.cowsay,
    inputs: cowsay.inputs,
    needs: { cpu: 1, memoryMb: 64, gpu: 0, vramMb: 0 },
    status: "opened",
  }));
  const offers = new Map<string, ResourceOffer>([
    [a.resource.id, a.resource.offer],
    [b.resource.id, b.resource.offer],
  ]);
  assert.notEqual(a.resource.id, b.resource.id);
  assert.equal(b.record.deal.resourceOffer, hashRecord(domain, "ResourceOffer", b.resource.offer));
  const ctx = { ...b.ctx, offers, held: heldCapacity(underA, NOW), heldJobs: heldDeals(underA, NOW) };
  // ... so a deal under offer B waits, though offer B itself lists 4 CPUs.
  const v = await checkProposal(ctx, b.record, b.job);
  assert.equal(v.sign, false);
  assert.deepEqual(!v.sign && [v.decline.field, v.busy], ["jobOffer.cpu", true]);
  // With one of A's deals ended, B's fits.
  const freed = await checkProposal({ ...ctx, held: heldCapacity(underA.slice(1), NOW) }, b.record, b.job);
  assert.ok(freed.sign, freed.sign ? "" : freed.decline.message);
});
