// Replica groups in the pure matcher: k deals, k distinct providers, one mediator set that leaves
// out every party of the group, all or none, and openBy moving on so no deal id repeats.
import { test } from "node:test";
import assert from "node:assert/strict";
import { dealMediators, mediatorSetHash, replicaGroupHash, sortedAddresses, type JobOffer, type ResourceOffer, type ResourceOfferRecord } from "@lily/protocol";
import type { Address } from "viem";
import { planMatches, explainJob, pickGroup, JOB_REJECTION } from "../src/index.ts";
import { NOW, addr, id, other, mediatorA, mediatorB, jobRecord, offerRecord, snapshot, config } from "./matcherFixtures.ts";

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
  /** The mediator set every deal of the group carries. */
  mediators?: Address[];
}[] = [
  {
    says: "replicate(3) with 4 offers goes to the cheapest three, best first",
    job: replicated(3),
    offers: [
      [1, { price: 90n }],
      [2, { price: 40n }],
      [3, { price: 70n }],
      [4, { price: 20n }],
    ],
    matched: [4, 2, 3],
  },
  {
    says: "replicate(2) ties go to the lower offer id",
    job: replicated(2),
    offers: [
      [3, {}],
      [1, {}],
      [2, {}],
    ],
    matched: [1, 2],
  },
  {
    says: "replicate(3) with 2 that fit proposes nothing and says why",
    job: replicated(3),
    offers: [
      [1, {}],
      [2, { price: 500n }],
      [3, { modules: [other] }],
      [4, {}],
    ],
    matched: [],
    why: /^replicate: needs 3 distinct providers, 2 fit$/,
    rejected: [
      [2, /^price: /],
      [3, /^module: /],
    ],
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
    offers: [
      [1, { price: 10n, mediators: [mediatorA] }],
      [2, { price: 20n, mediators: [mediatorB] }],
      [3, { price: 30n, mediators: [mediatorB] }],
      [4, { price: 40n, mediators: [mediatorA] }],
    ],
    matched: [2, 3],
  },
  {
    says: "enough providers fit but no k of them share a mediator set: nothing, and why",
    job: replicated(3, { mediators: [mediatorA, mediatorB] }),
    offers: [
      [1, { mediators: [mediatorA] }],
      [2, { mediators: [mediatorB] }],
      [3, { mediators: [mediatorA, mediatorB] }],
    ],
    matched: [],
    why: /^replicate: needs 3 distinct providers with the same mediators, 3 fit but at most 1 share a mediator set$/,
  },
  {
    says: "a group's own providers are not its mediators: each deal's set leaves out the whole group",
    job: replicated(3, { mediators: [mediatorA, addr(3)] }),
    offers: [
      [1, { price: 10n, mediators: [mediatorA, addr(3)] }],
      [2, { price: 20n, mediators: [mediatorA, addr(3)] }],
      [3, { price: 30n, mediators: [mediatorA, addr(3)] }],
    ],
    matched: [1, 2, 3],
    mediators: [mediatorA],
  },
  {
    says: "a provider that is another's only mediator cannot share its group",
    job: replicated(2, { mediators: [addr(2), addr(3)] }),
    offers: [
      [1, { price: 10n, mediators: [addr(2)] }],
      [2, { price: 20n, mediators: [addr(3)] }],
      [3, { price: 30n, mediators: [addr(2)] }],
    ],
    matched: [1, 3],
    mediators: [addr(2)],
  },
  {
    says: "no k providers keep a mediator once the group is left out: no group",
    job: replicated(3, { mediators: [addr(2), addr(3)] }),
    offers: [
      [1, { mediators: [addr(2)] }],
      [2, { mediators: [addr(3)] }],
      [3, { mediators: [addr(2)] }],
    ],
    matched: [],
    why: /^replicate: needs 3 distinct providers with the same mediators, 3 fit but at most 2 share a mediator set$/,
  },
  {
    says: "an out-of-range k is refused by the policy filter, for every provider",
    job: replicated(17),
    offers: [
      [1, {}],
      [2, {}],
    ],
    matched: [],
    why: /needs 17 distinct providers, 0 fit/,
    rejected: [
      [1, /^policy: replicate needs between 2 and 16/],
      [2, /^policy: /],
    ],
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
    assert.deepEqual(
      plan.proposals.map((p) => p.terms.provider),
      c.matched.map(addr),
    );
    for (const p of plan.proposals) {
      assert.equal(p.jobOfferId, j.id);
      assert.equal(p.terms.jobOffer, j.id);
      assert.equal(p.terms.policyParam, j.offer.policyParam);
      assert.equal(p.terms.mediators, plan.proposals[0]!.terms.mediators, "one mediator set for the whole group");
      assert.equal(p.terms.openBy, plan.proposals[0]!.terms.openBy);
      const group = sortedAddresses(c.matched.map(addr));
      assert.deepEqual([p.group, p.terms.replicas], [group, replicaGroupHash(group)], "each replica names the whole group");
    }
    const rejections = plan.rejections.get(j.id)!;
    if (c.why) assert.match(rejections[JOB_REJECTION] ?? "(none)", c.why);
    else assert.equal(rejections[JOB_REJECTION], undefined);
    for (const [n, reason] of c.rejected ?? []) assert.match(rejections[addr(n)] ?? "(none)", reason);
    if (c.mediators) assert.ok(plan.proposals.every((p) => p.terms.mediators === mediatorSetHash(c.mediators!)));
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
    assert.deepEqual(
      plan.proposals.filter((p) => p.jobOfferId === id(2)).map((p) => p.terms.provider),
      c.second.map(addr),
      c.says,
    );
  }
});

test("a job offer's new deals open by later than every earlier deal of it, so no deal id repeats", () => {
  const usual = BigInt(NOW + 60);
  const cases = [
    { says: "no earlier deal", last: undefined, openBy: usual },
    { says: "earlier deals open by before", last: usual - 10n, openBy: usual },
    { says: "an earlier deal proposed this same second", last: usual, openBy: usual + 1n },
  ];
  for (const c of cases) {
    const lastOpenBy = new Map(c.last === undefined ? [] : [[id(1), c.last] as const]);
    const plan = planMatches(snapshot({ jobs: [jobRecord(1, replicated(2))], offers: [offerRecord(1), offerRecord(2)], lastOpenBy }), config, NOW);
    assert.deepEqual(
      plan.proposals.map((p) => [p.terms.openBy, p.terms.deadline]),
      [
        [c.openBy, c.openBy + 300n],
        [c.openBy, c.openBy + 300n],
      ],
      c.says,
    );
  }
});

test("explain: a replica group that only capacity in use keeps from forming is matchable; one short of providers is not", () => {
  const job = { id: id(1), offer: jobRecord(1, replicated(2, { cpu: 2 })).offer };
  const offers = [offerRecord(1, { cpu: 2 }), offerRecord(2, { cpu: 2 }), offerRecord(3, { cpu: 1 })];
  const busy = explainJob(job, snapshot({ offers, used: new Map([[addr(2), { cpu: 2, memoryMb: 0, gpu: 0, vramMb: 0 }]]) }), config, NOW);
  assert.deepEqual(
    busy.candidates.map((c) => c.provider),
    [addr(1)],
  );
  assert.equal(busy.rejections[JOB_REJECTION], "replicate: needs 2 distinct providers, 1 fit");
  assert.match(busy.rejections[addr(2)]!, /^resources: /);
  assert.match(busy.rejections[addr(3)]!, /^capacity: /);
  assert.equal(busy.matchable, true, "addr(2) frees up");
  const short = explainJob(job, snapshot({ offers: [offers[0]!, offers[2]!] }), config, NOW);
  assert.equal(short.matchable, false, "one provider can ever hold it");
});

// --- pickGroup's mediator sets, against dealMediators itself ---

/** pickGroup as it was written on dealMediators (checksummed, sorted sets per member): the reference the lowercase comparison must agree with. */
function referencePick(jobOffer: JobOffer, ranked: readonly ResourceOfferRecord[], k: number): Address[] | undefined {
  const oneSet = (members: readonly ResourceOfferRecord[]) => {
    const parties: Address[] = [jobOffer.jobCreator, ...members.map((m) => m.offer.provider)];
    const sets = members.map((m) => dealMediators(jobOffer.mediators, m.offer.mediators, parties).join());
    return sets.every((s) => s === sets[0]) && (sets[0] !== "" || jobOffer.policy !== 2);
  };
  const groups: ResourceOfferRecord[][] = [];
  const seen = new Set<string>();
  for (const o of ranked) {
    if (seen.has(o.offer.provider.toLowerCase())) continue;
    seen.add(o.offer.provider.toLowerCase());
    const joined = groups.find((g) => oneSet([...g, o]));
    if (joined) joined.push(o);
    else if (oneSet([o])) groups.push([o]);
    const full = groups.find((g) => g.length === k);
    if (full) return full.map((m) => m.offer.provider);
  }
  return undefined;
}

test("pickGroup forms the groups dealMediators' sets call for: mixed case, repeats, parties that are mediators", () => {
  let seed = 7;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  // Few addresses, so providers, the job creator and mediators often coincide; some written in upper case.
  const pool = [1, 2, 3, 4, 5].map((n) => addr(0xa0 + n));
  const spelled = (a: Address) => (rand(3) === 0 ? (`0x${a.slice(2).toUpperCase()}` as Address) : a);
  const some = () => Array.from({ length: rand(5) }, () => spelled(pool[rand(pool.length)]!));
  let formed = 0;
  for (let run = 0; run < 1000; run++) {
    const k = 2 + rand(2);
    const jobOffer: JobOffer = { ...jobRecord(run).offer, jobCreator: spelled(pool[rand(pool.length)]!), policy: rand(4) === 0 ? 0 : 2, mediators: some() };
    const ranked = Array.from({ length: 2 + rand(6) }, (_, i) => offerRecord(i + 1, { provider: spelled(pool[rand(pool.length)]!), mediators: some() }));
    const want = referencePick(jobOffer, ranked, k);
    const got = pickGroup(jobOffer, ranked, k).group?.map((o) => o.offer.provider);
    assert.deepEqual(got, want, `run ${run}`);
    if (want) formed++;
  }
  // Both outcomes were exercised.
  assert.ok(formed > 100 && formed < 900, `${formed} of 1000 formed a group`);
});
