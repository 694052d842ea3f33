import { mediatorSetHash } from "@lily/protocol";
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Address, Hex } from "viem";
import { cidForBytes, type JobOffer, type JobOfferRecord, type ResourceOffer, type ResourceOfferRecord } from "@lily/protocol";
import {
  planMatches,
  defaultFilters,
  defaultScores,
  notExpired,
  notExcluded,
  moduleAllowed,
  priceWithinBudget,
  policySafe,
  mediatorAccepted,
  resourcesFit,
  NO_RESOURCES,
  JOB_REJECTION,
  type FilterPlugin,
  type MatchContext,
  type Resources,
  type Snapshot,
} from "../src/index.ts";

const NOW = 1_800_000_000;
const addr = (n: number) => `0x${n.toString(16).padStart(40, "0")}` as Address;
const id = (n: number) => `0x${n.toString(16).padStart(64, "0")}` as Hex;
const wasm = cidForBytes(new TextEncoder().encode("primes.wasm"));
const other = cidForBytes(new TextEncoder().encode("other.wasm"));
const jc = addr(0xc0ffee);
const mediatorA = addr(0xa);
const mediatorB = addr(0xb);

const job = (o: Partial<JobOffer> = {}): JobOffer => ({
  jobCreator: jc, module: wasm, inputs: wasm, cpu: 1, memoryMb: 512, gpu: 0, vramMb: 0, maxPrice: 100n,
  policy: 0, policyParam: 0n, mediationFee: 0n, mediators: [], moduleCreator: "0x0000000000000000000000000000000000000000", royaltyBps: 0, timeoutSeconds: 300n, expiresAt: BigInt(NOW + 3600), nonce: 1n, ...o,
});
const offer = (o: Partial<ResourceOffer> = {}): ResourceOffer => ({
  provider: addr(1), cpu: 4, memoryMb: 4096, gpu: 0, vramMb: 0, price: 50n, collateral: 10n,
  modules: [wasm], mediators: [mediatorA], expiresAt: BigInt(NOW + 3600), nonce: 1n, ...o,
});
const jobRecord = (n: number, o: Partial<JobOffer> = {}): JobOfferRecord => ({ id: id(n), offer: job(o), signature: `0x${"00".repeat(65)}`, status: "open", dealIds: [], rejections: {}, createdAt: n });
const offerRecord = (n: number, o: Partial<ResourceOffer> = {}): ResourceOfferRecord => ({ id: id(0x100 + n), offer: offer({ provider: addr(n), ...o }), signature: `0x${"00".repeat(65)}`, active: true, createdAt: n });
const ctx = (o: Partial<MatchContext> = {}): MatchContext => ({ now: BigInt(NOW), used: NO_RESOURCES, excluded: {}, ...o });
const snapshot = (o: Partial<Snapshot>): Snapshot => ({ jobs: [], offers: [], used: new Map(), excluded: {}, lastDeadline: new Map(), ...o });
const config = { filters: defaultFilters, scores: defaultScores, signWindowSeconds: 60 };
const used = (r: Partial<Resources>): Resources => ({ ...NO_RESOURCES, ...r });

const filterCases: { says: string; plugin: FilterPlugin; job?: Partial<JobOffer>; offer?: Partial<ResourceOffer>; ctx?: Partial<MatchContext>; reason?: RegExp }[] = [
  { says: "a job within the offer's free capacity fits", plugin: resourcesFit },
  { says: "a job needing more cpu than is free does not fit", plugin: resourcesFit, job: { cpu: 8 }, reason: /^cpu: needs 8, 4 of 4 free$/ },
  { says: "capacity held by active deals is not free", plugin: resourcesFit, job: { memoryMb: 2048 }, ctx: { used: used({ memoryMb: 3072 }) }, reason: /memoryMb: needs 2048, 1024 of 4096 free/ },
  { says: "a gpu job does not fit a cpu-only offer", plugin: resourcesFit, job: { gpu: 1, vramMb: 8192 }, reason: /gpu: needs 1, 0 of 0 free; vramMb: needs 8192/ },
  { says: "a price at maxPrice is within budget", plugin: priceWithinBudget, offer: { price: 100n } },
  { says: "a price above maxPrice is over budget", plugin: priceWithinBudget, offer: { price: 101n }, reason: /price 101 is above maxPrice 100/ },
  { says: "an allowed module passes", plugin: moduleAllowed },
  { says: "a module missing from the allow-list is refused", plugin: moduleAllowed, offer: { modules: [other] }, reason: /not in the provider's allow-list/ },
  { says: "an empty allow-list allows nothing", plugin: moduleAllowed, offer: { modules: [] }, reason: /not in the provider's allow-list/ },
  { says: "a job with no mediators accepts any provider", plugin: mediatorAccepted, offer: { mediators: [] } },
  { says: "one shared mediator is enough", plugin: mediatorAccepted, job: { mediators: [mediatorB, mediatorA] } },
  { says: "no shared mediator is refused", plugin: mediatorAccepted, job: { mediators: [mediatorB] }, reason: /accepts none of the job's mediators/ },
  { says: "a trust job is always safe", plugin: policySafe },
  { says: "an audit rate whose expected slash covers the price is safe", plugin: policySafe, job: { policy: 3, policyParam: 200_000n, mediators: [mediatorA] }, offer: { price: 50n, collateral: 250n } },
  { says: "an audit rate too low for the provider's collateral is refused", plugin: policySafe, job: { policy: 3, policyParam: 100_000n, mediators: [mediatorA] }, offer: { price: 50n, collateral: 250n }, reason: /collateral|price/ },
  { says: "collateral below the mediation fee is refused under optimistic", plugin: policySafe, job: { policy: 1, policyParam: 60n, mediationFee: 20n, mediators: [mediatorA] }, offer: { collateral: 10n }, reason: /mediation fee|mediationFee/ },
  { says: "unexpired offers pass", plugin: notExpired },
  { says: "an expired job offer is refused", plugin: notExpired, job: { expiresAt: BigInt(NOW) }, reason: /job offer expired/ },
  { says: "an expired resource offer is refused", plugin: notExpired, offer: { expiresAt: BigInt(NOW - 1) }, reason: /resource offer expired/ },
  { says: "a provider not excluded passes", plugin: notExcluded, ctx: { excluded: { [addr(2)]: "rejected deal" } } },
  { says: "a provider excluded from the job is refused with why", plugin: notExcluded, ctx: { excluded: { [addr(1)]: "rejected deal 0x1" } }, reason: /^rejected deal 0x1$/ },
];

for (const c of filterCases) {
  test(`filter ${c.plugin.name}: ${c.says}`, () => {
    const reason = c.plugin.filter(job(c.job), offer(c.offer), ctx(c.ctx));
    if (c.reason) assert.match(reason ?? "(passed)", c.reason);
    else assert.equal(reason, undefined);
  });
}

test("the cheapest fitting offer wins", () => {
  const plan = planMatches(snapshot({ jobs: [jobRecord(1)], offers: [offerRecord(1, { price: 90n }), offerRecord(2, { price: 40n }), offerRecord(3, { price: 70n })] }), config, NOW);
  assert.equal(plan.proposals.length, 1);
  assert.equal(plan.proposals[0]!.terms.provider, addr(2));
});

test("a provider at capacity is skipped, with the reason recorded", () => {
  const cheapButFull = offerRecord(1, { price: 10n });
  const plan = planMatches(snapshot({ jobs: [jobRecord(1)], offers: [cheapButFull, offerRecord(2, { price: 90n })], used: new Map([[addr(1), used({ cpu: 4 })]]) }), config, NOW);
  assert.equal(plan.proposals[0]!.terms.provider, addr(2));
  assert.match(plan.rejections[id(1)]![addr(1)]!, /^resources: cpu: needs 1, 0 of 4 free$/);
});

test("capacity given to an earlier job in the same plan is not given twice", () => {
  const plan = planMatches(snapshot({ jobs: [jobRecord(1, { cpu: 3 }), jobRecord(2, { cpu: 3 })], offers: [offerRecord(1)] }), config, NOW);
  assert.deepEqual(plan.proposals.map((p) => p.jobOfferId), [id(1)]);
  assert.match(plan.rejections[id(2)]![addr(1)]!, /cpu: needs 3, 1 of 4 free/);
});

test("an excluded provider is passed over for that job only", () => {
  const snap = snapshot({ jobs: [jobRecord(1), jobRecord(2)], offers: [offerRecord(1, { cpu: 16 })], excluded: { [id(1)]: { [addr(1)]: "rejected deal 0x9" } } });
  const plan = planMatches(snap, config, NOW);
  assert.deepEqual(plan.proposals.map((p) => p.jobOfferId), [id(2)]);
  assert.equal(plan.rejections[id(1)]![addr(1)], "excluded: rejected deal 0x9");
});

test("deal terms come from the two offers and the sign window", () => {
  const creator = addr(0xc4ea70);
  const j = jobRecord(1, { policy: 1, policyParam: 3600n, timeoutSeconds: 120n, mediationFee: 3n, mediators: [mediatorB, mediatorA], moduleCreator: creator, royaltyBps: 250 });
  const o = offerRecord(1, { price: 42n, collateral: 7n, mediators: [mediatorA] });
  const { proposals } = planMatches(snapshot({ jobs: [j], offers: [o] }), config, NOW);
  assert.deepEqual(proposals, [{
    jobOfferId: j.id,
    resourceOfferId: o.id,
    terms: { jobCreator: jc, provider: addr(1), jobOffer: j.id, resourceOffer: o.id, price: 42n, collateral: 7n, deadline: BigInt(NOW + 60 + 120), policy: 1, policyParam: 3600n,
      mediationFee: 3n, mediators: mediatorSetHash([mediatorA]), moduleCreator: creator, royaltyBps: 250 },
  }]);
});

test("matching is pure: same snapshot, same plan, snapshot untouched", () => {
  const snap = snapshot({ jobs: [jobRecord(1), jobRecord(2, { cpu: 4 })], offers: [offerRecord(1), offerRecord(2, { price: 20n })], used: new Map([[addr(2), used({ cpu: 1 })]]) });
  const before = structuredClone(snap);
  const a = planMatches(snap, config, NOW);
  const b = planMatches(snap, config, NOW);
  assert.deepEqual(a, b);
  assert.deepEqual(snap, before);
});

// --- replicate(k): k deals, k distinct providers, one mediator set, all or none ---

const replicated = (k: number, o: Partial<JobOffer> = {}): Partial<JobOffer> => ({ policy: 2, policyParam: BigInt(k), mediators: [mediatorA], ...o });

const replicaCases: {
  says: string;
  job: Partial<JobOffer>;
  offers: [number, Partial<ResourceOffer>][];
  /** Providers (by number) of the proposals, in order; [] for none. */
  matched: number[];
  /** The job-level explanation, when there is no group. */
  why?: RegExp;
  /** Providers whose own rejection reasons are kept. */
  rejected?: [number, RegExp][];
}[] = [
  {
    says: "replicate(3) with 4 offers goes to the cheapest three, best first",
    job: replicated(3),
    offers: [[1, { price: 90n }], [2, { price: 40n }], [3, { price: 70n }], [4, { price: 20n }]],
    matched: [4, 2, 3],
  },
  {
    says: "replicate(2) ties go to the lower offer id",
    job: replicated(2),
    offers: [[3, {}], [1, {}], [2, {}]],
    matched: [1, 2],
  },
  {
    says: "replicate(3) with 2 that fit proposes nothing and says why",
    job: replicated(3),
    offers: [[1, {}], [2, { price: 500n }], [3, { modules: [other] }], [4, {}]],
    matched: [],
    why: /^replicate: needs 3 distinct providers, 2 fit$/,
    rejected: [[2, /^price: /], [3, /^module: /]],
  },
  {
    says: "replicate(2) with no offers at all still says why",
    job: replicated(2),
    offers: [],
    matched: [],
    why: /^replicate: needs 2 distinct providers, 0 fit$/,
  },
  {
    says: "a group shares one mediator set: the first set k providers reach, in rank order",
    job: replicated(2, { mediators: [mediatorA, mediatorB] }),
    offers: [[1, { price: 10n, mediators: [mediatorA] }], [2, { price: 20n, mediators: [mediatorB] }], [3, { price: 30n, mediators: [mediatorB] }], [4, { price: 40n, mediators: [mediatorA] }]],
    matched: [2, 3],
  },
  {
    says: "enough providers fit but no k of them share a mediator set: nothing, and why",
    job: replicated(3, { mediators: [mediatorA, mediatorB] }),
    offers: [[1, { mediators: [mediatorA] }], [2, { mediators: [mediatorB] }], [3, { mediators: [mediatorA, mediatorB] }]],
    matched: [],
    why: /^replicate: needs 3 distinct providers with the same mediators, 3 fit but at most 1 share a mediator set$/,
  },
  {
    says: "an out-of-range k is refused by the policy filter, for every provider",
    job: replicated(17),
    offers: [[1, {}], [2, {}]],
    matched: [],
    why: /needs 17 distinct providers, 0 fit/,
    rejected: [[1, /^policy: replicate needs between 2 and 16/], [2, /^policy: /]],
  },
  {
    says: "trust takes one provider, and no job-level reason when none fits",
    job: {},
    offers: [[1, { price: 500n }]],
    matched: [],
    rejected: [[1, /^price: /]],
  },
];

for (const c of replicaCases) {
  test(`replicate: ${c.says}`, () => {
    const j = jobRecord(1, c.job);
    const plan = planMatches(snapshot({ jobs: [j], offers: c.offers.map(([n, o]) => offerRecord(n, o)) }), config, NOW);
    assert.deepEqual(plan.proposals.map((p) => p.terms.provider), c.matched.map(addr));
    for (const p of plan.proposals) {
      assert.equal(p.jobOfferId, j.id);
      assert.equal(p.terms.jobOffer, j.id);
      assert.equal(p.terms.policyParam, j.offer.policyParam);
      assert.equal(p.terms.mediators, plan.proposals[0]!.terms.mediators, "one mediator set for the whole group");
      assert.equal(p.terms.deadline, plan.proposals[0]!.terms.deadline);
    }
    const rejections = plan.rejections[j.id]!;
    if (c.why) assert.match(rejections[JOB_REJECTION] ?? "(none)", c.why);
    else assert.equal(rejections[JOB_REJECTION], undefined);
    for (const [n, reason] of c.rejected ?? []) assert.match(rejections[addr(n)] ?? "(none)", reason);
  });
}

test("replicate: each replica's capacity counts, and a group that does not form holds none", () => {
  const cases = [
    { says: "a formed group fills both providers", first: replicated(2, { cpu: 3 }), offers: [1, 2], second: [] as number[] },
    { says: "a group short of providers leaves their capacity to the next job", first: replicated(3, { cpu: 3 }), offers: [1, 2], second: [1] },
  ];
  for (const c of cases) {
    const jobs = [jobRecord(1, c.first), jobRecord(2, { cpu: 3 })];
    const plan = planMatches(snapshot({ jobs, offers: c.offers.map((n) => offerRecord(n)) }), config, NOW);
    assert.deepEqual(plan.proposals.filter((p) => p.jobOfferId === id(2)).map((p) => p.terms.provider), c.second.map(addr), c.says);
  }
});

test("a job offer's new deals are due after every earlier deal of it, so no deal id repeats", () => {
  const usual = BigInt(NOW + 60 + 300);
  const cases = [
    { says: "no earlier deal", last: undefined, deadline: usual },
    { says: "earlier deals due before", last: usual - 10n, deadline: usual },
    { says: "an earlier deal proposed this same second", last: usual, deadline: usual + 1n },
  ];
  for (const c of cases) {
    const lastDeadline = new Map(c.last === undefined ? [] : [[id(1), c.last] as const]);
    const plan = planMatches(snapshot({ jobs: [jobRecord(1, replicated(2))], offers: [offerRecord(1), offerRecord(2)], lastDeadline }), config, NOW);
    assert.deepEqual(plan.proposals.map((p) => p.terms.deadline), [c.deadline, c.deadline], c.says);
  }
});
