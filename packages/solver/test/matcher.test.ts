// The matcher as pure functions: filters that say why, scores, deal terms from deriveDeal, and
// the plan a snapshot gives, escrow balances included.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { Address } from "viem";
import { commonMediators, dealMediators, deriveDeal, mediatorSetHash, NO_REPLICAS, type JobOffer, type ResourceOffer } from "@lily/protocol";
import {
  planMatches,
  defaultFilters,
  notExpired,
  notExcluded,
  moduleAllowed,
  priceWithinBudget,
  policySafe,
  mediatorAccepted,
  capacityFits,
  resourcesFree,
  escrowCovers,
  escrowNotHeld,
  cheapestPrice,
  type FilterPlugin,
  type MatchContext,
} from "../src/index.ts";
import {
  NOW,
  addr,
  id,
  other,
  jc,
  mediatorA,
  mediatorB,
  job,
  offer,
  jobRecord,
  offerRecord,
  RICH,
  ctx,
  funded,
  snapshot,
  config,
  used,
} from "./matcherFixtures.ts";

const filterCases: {
  says: string;
  plugin: FilterPlugin;
  job?: Partial<JobOffer>;
  offer?: Partial<ResourceOffer>;
  ctx?: Partial<MatchContext>;
  reason?: RegExp;
}[] = [
  { says: "a job within the offer's free capacity fits", plugin: resourcesFree },
  { says: "a job needing more cpu than is free does not fit", plugin: resourcesFree, job: { cpu: 8 }, reason: /^cpu: needs 8, 4 of 4 free$/ },
  {
    says: "capacity held by active deals is not free",
    plugin: resourcesFree,
    job: { memoryMb: 2048 },
    ctx: { used: used({ memoryMb: 3072 }) },
    reason: /memoryMb: needs 2048, 1024 of 4096 free/,
  },
  {
    says: "a gpu job does not fit a cpu-only offer",
    plugin: resourcesFree,
    job: { gpu: 1, vramMb: 8192 },
    reason: /gpu: needs 1, 0 of 0 free; vramMb: needs 8192/,
  },
  { says: "a job the offer could hold fits its capacity, however busy", plugin: capacityFits, job: { cpu: 4 }, ctx: { used: used({ cpu: 4 }) } },
  {
    says: "a job bigger than the whole offer never fits",
    plugin: capacityFits,
    job: { cpu: 8, gpu: 1 },
    reason: /^cpu: needs 8, the offer has 4; gpu: needs 1, the offer has 0$/,
  },
  { says: "a price at maxPrice is within budget", plugin: priceWithinBudget, offer: { price: 100n } },
  {
    says: "a price above maxPrice is over budget",
    plugin: priceWithinBudget,
    offer: { price: 101n },
    reason: /price 0.000000000000000101 LILY is above maxPrice 0.0000000000000001 LILY/,
  },
  { says: "an allowed module passes", plugin: moduleAllowed },
  { says: "a module missing from the allow-list is refused", plugin: moduleAllowed, offer: { modules: [other] }, reason: /not in the provider's allow-list/ },
  { says: "an empty allow-list allows nothing", plugin: moduleAllowed, offer: { modules: [] }, reason: /not in the provider's allow-list/ },
  { says: "a job with no mediators accepts any provider", plugin: mediatorAccepted, offer: { mediators: [] } },
  { says: "one shared mediator is enough", plugin: mediatorAccepted, job: { mediators: [mediatorB, mediatorA] } },
  { says: "no shared mediator is refused", plugin: mediatorAccepted, job: { mediators: [mediatorB] }, reason: /^accepts none of the job's mediators$/ },
  {
    says: "the deal's own parties are not its mediators",
    plugin: mediatorAccepted,
    job: { mediators: [jc, addr(1)] },
    offer: { mediators: [jc, addr(1)] },
    reason: /^accepts none of the job's mediators but the deal's own parties$/,
  },
  {
    says: "a policy that mediates needs a mediator even when the job lists none",
    plugin: mediatorAccepted,
    job: { policy: 1, policyParam: 60n },
    reason: /^the policy needs a mediator and the job lists none$/,
  },
  { says: "a trust job is always safe", plugin: policySafe },
  {
    says: "an audit rate whose expected slash covers the price is safe",
    plugin: policySafe,
    job: { policy: 3, policyParam: 200_000n, mediators: [mediatorA] },
    offer: { price: 50n, collateral: 250n },
  },
  {
    says: "an audit rate too low for the provider's collateral is refused",
    plugin: policySafe,
    job: { policy: 3, policyParam: 100_000n, mediators: [mediatorA] },
    offer: { price: 50n, collateral: 250n },
    reason: /collateral|price/,
  },
  {
    says: "collateral below the mediation fee is refused under optimistic",
    plugin: policySafe,
    job: { policy: 1, policyParam: 60n, mediationFee: 20n, mediators: [mediatorA] },
    offer: { collateral: 10n },
    reason: /mediation fee|mediationFee/,
  },
  { says: "unexpired offers pass", plugin: notExpired },
  { says: "an expired job offer is refused", plugin: notExpired, job: { expiresAt: BigInt(NOW) }, reason: /job offer expired/ },
  { says: "an expired resource offer is refused", plugin: notExpired, offer: { expiresAt: BigInt(NOW - 1) }, reason: /resource offer expired/ },
  { says: "a provider not excluded passes", plugin: notExcluded, ctx: { excluded: { [addr(2)]: "rejected deal" } } },
  {
    says: "a provider excluded from the job is refused with why",
    plugin: notExcluded,
    ctx: { excluded: { [addr(1)]: "rejected deal 0x1" } },
    reason: /^rejected deal 0x1$/,
  },
  {
    says: "parties whose free escrow covers the deal are backed",
    plugin: escrowCovers,
    ctx: { escrow: { jobCreator: { free: 100n, held: 0n }, provider: { free: 10n, held: 0n } } },
  },
  {
    says: "a job creator short of maxPrice is not backed",
    plugin: escrowCovers,
    ctx: { escrow: { jobCreator: { free: 99n, held: 0n }, provider: { free: RICH, held: 0n } } },
    reason: /^job creator: escrow 0.000000000000000099 LILY free, the deal would lock 0.0000000000000001 LILY$/,
  },
  {
    says: "a provider short of its collateral is not backed",
    plugin: escrowCovers,
    ctx: { escrow: { jobCreator: { free: RICH, held: 0n }, provider: { free: 9n, held: 0n } } },
    reason: /^provider: escrow 0.000000000000000009 LILY free/,
  },
  {
    says: "a replicated job needs maxPrice and the fee once per replica",
    plugin: escrowCovers,
    job: { policy: 2, policyParam: 3n, mediationFee: 5n },
    ctx: { escrow: { jobCreator: { free: 314n, held: 0n }, provider: { free: RICH, held: 0n } } },
    reason: /would lock 0.000000000000000315 LILY$/,
  },
  {
    says: "escrow held by unopened deals is not free for another",
    plugin: escrowNotHeld,
    ctx: { escrow: { jobCreator: { free: RICH, held: 0n }, provider: { free: 15n, held: 10n } } },
    reason: /^provider: escrow 0.000000000000000015 LILY free, 0.00000000000000001 LILY held for unopened deals, the deal would lock 0.00000000000000001 LILY$/,
  },
  {
    says: "what unopened deals leave is enough",
    plugin: escrowNotHeld,
    ctx: { escrow: { jobCreator: { free: 200n, held: 100n }, provider: { free: 20n, held: 10n } } },
  },
];

test("every lasting filter runs before every transient one, so a transient first reason means waiting is all it takes", () => {
  const firstTransient = defaultFilters.findIndex((f) => f.transient);
  assert.ok(firstTransient > 0 && defaultFilters.slice(firstTransient).every((f) => f.transient));
  assert.deepEqual(
    defaultFilters.filter((f) => f.transient).map((f) => f.name),
    ["escrow-pending", "resources"],
  );
});

for (const c of filterCases) {
  test(`filter ${c.plugin.name}: ${c.says}`, () => {
    const reason = c.plugin.filter(job(c.job), offer(c.offer), ctx(c.ctx));
    if (c.reason) assert.match(reason ?? "(passed)", c.reason);
    else assert.equal(reason, undefined);
  });
}

test("the mediators filter words its refusal as the mediator sets say, whatever the lists and their spelling (random lists against commonMediators and dealMediators)", () => {
  // A small pool, so lists share mediators and the deal's parties among them often; each address
  // may come in any case, as it may from an offer that was not checksummed.
  const provider = addr(0x70);
  const pool = [mediatorA, mediatorB, jc, provider, addr(0xabc), addr(0xdef)];
  const spelled = fc
    .tuple(fc.constantFrom(...pool), fc.constantFrom("lower", "upper", "as-is"))
    .map(([a, how]) => (how === "lower" ? (a.toLowerCase() as Address) : how === "upper" ? (`0x${a.slice(2).toUpperCase()}` as Address) : a));
  fc.assert(
    fc.property(fc.array(spelled, { maxLength: 4 }), fc.array(spelled, { maxLength: 4 }), fc.constantFrom(0, 1), (jobMediators, offerMediators, policy) => {
      const j = job({ mediators: jobMediators, policy, policyParam: policy === 1 ? 60n : 0n });
      const o = offer({ provider, mediators: offerMediators });
      const expected =
        jobMediators.length === 0 && policy === 0
          ? undefined
          : dealMediators(jobMediators, offerMediators, [jc, provider]).length > 0
            ? undefined
            : jobMediators.length === 0
              ? "the policy needs a mediator and the job lists none"
              : commonMediators(jobMediators, offerMediators).length > 0
                ? "accepts none of the job's mediators but the deal's own parties"
                : "accepts none of the job's mediators";
      assert.equal(mediatorAccepted.filter(j, o, ctx()), expected);
    }),
    { seed: 0x3ed1, numRuns: 2000 },
  );
});

test("the cheapest fitting offer wins", () => {
  const plan = planMatches(
    snapshot({ jobs: [jobRecord(1)], offers: [offerRecord(1, { price: 90n }), offerRecord(2, { price: 40n }), offerRecord(3, { price: 70n })] }),
    config,
    NOW,
  );
  assert.equal(plan.proposals.length, 1);
  assert.equal(plan.proposals[0]!.terms.provider, addr(2));
});

test("a provider at capacity is skipped, with the reason recorded", () => {
  const cheapButFull = offerRecord(1, { price: 10n });
  const plan = planMatches(
    snapshot({ jobs: [jobRecord(1)], offers: [cheapButFull, offerRecord(2, { price: 90n })], used: new Map([[addr(1), used({ cpu: 4 })]]) }),
    config,
    NOW,
  );
  assert.equal(plan.proposals[0]!.terms.provider, addr(2));
  assert.match(plan.rejections.get(id(1))![addr(1)]!, /^resources: cpu: needs 1, 0 of 4 free$/);
});

test("capacity given to an earlier job in the same plan is not given twice", () => {
  const plan = planMatches(snapshot({ jobs: [jobRecord(1, { cpu: 3 }), jobRecord(2, { cpu: 3 })], offers: [offerRecord(1)] }), config, NOW);
  assert.deepEqual(
    plan.proposals.map((p) => p.jobOfferId),
    [id(1)],
  );
  assert.match(plan.rejections.get(id(2))![addr(1)]!, /cpu: needs 3, 1 of 4 free/);
});

test("an excluded provider is passed over for that job only", () => {
  const snap = snapshot({
    jobs: [jobRecord(1), jobRecord(2)],
    offers: [offerRecord(1, { cpu: 16 })],
    excluded: { [id(1)]: { [addr(1)]: "rejected deal 0x9" } },
  });
  const plan = planMatches(snap, config, NOW);
  assert.deepEqual(
    plan.proposals.map((p) => p.jobOfferId),
    [id(2)],
  );
  assert.equal(plan.rejections.get(id(1))![addr(1)], "excluded: rejected deal 0x9");
});

test("deal terms are deriveDeal's, open for one sign window", () => {
  const creator = addr(0xc4ea70);
  const j = jobRecord(1, {
    policy: 1,
    policyParam: 3600n,
    timeoutSeconds: 120n,
    mediationFee: 3n,
    mediators: [mediatorB, mediatorA],
    moduleCreator: creator,
    royaltyBps: 250,
  });
  const o = offerRecord(1, { price: 42n, collateral: 7n, mediators: [mediatorA] });
  const { proposals } = planMatches(snapshot({ jobs: [j], offers: [o] }), config, NOW);
  const openBy = BigInt(NOW + 60);
  assert.deepEqual(proposals, [
    { jobOfferId: j.id, resourceOfferId: o.id, terms: deriveDeal({ id: j.id, offer: j.offer }, { id: o.id, offer: o.offer }, { openBy }) },
  ]);
  assert.deepEqual(proposals[0]!.terms, {
    jobCreator: jc,
    provider: addr(1),
    jobOffer: j.id,
    resourceOffer: o.id,
    price: 42n,
    collateral: 7n,
    openBy,
    deadline: openBy + 120n,
    policy: 1,
    policyParam: 3600n,
    mediationFee: 3n,
    mediators: mediatorSetHash([mediatorA]),
    replicas: NO_REPLICAS,
    moduleCreator: creator,
    royaltyBps: 250,
  });
});

test("only backed parties are matched, and escrow promised in this plan is not promised twice", () => {
  const cases = [
    { says: "an unfunded provider is passed over for a dearer funded one", escrow: funded([[addr(1), 0n]]), jobs: 1, matched: [addr(2)] },
    { says: "an unfunded job creator gets nothing", escrow: funded([[jc, 0n]]), jobs: 1, matched: [] },
    { says: "a job creator with enough for one job gets one", escrow: funded([[jc, 100n]]), jobs: 2, matched: [addr(1)] },
    { says: "a provider with one collateral takes one job; the next goes elsewhere", escrow: funded([[addr(1), 10n]]), jobs: 2, matched: [addr(1), addr(2)] },
  ];
  for (const c of cases) {
    const jobs = Array.from({ length: c.jobs }, (_, i) => jobRecord(i + 1));
    const plan = planMatches(snapshot({ jobs, offers: [offerRecord(1, { price: 10n }), offerRecord(2, { price: 90n })], escrow: c.escrow }), config, NOW);
    assert.deepEqual(
      plan.proposals.map((p) => p.terms.provider),
      c.matched,
      c.says,
    );
  }
  const held = planMatches(
    snapshot({ jobs: [jobRecord(1)], offers: [offerRecord(1)], escrow: funded([[addr(1), 15n]]), held: new Map([[addr(1), 10n]]) }),
    config,
    NOW,
  );
  assert.match(held.rejections.get(id(1))![addr(1)]!, /^escrow-pending: provider: /, "what a provider's unopened deals hold is not free");
});

test("matching is pure: same snapshot, same plan, snapshot untouched", () => {
  const snap = snapshot({
    jobs: [jobRecord(1), jobRecord(2, { cpu: 4 })],
    offers: [offerRecord(1), offerRecord(2, { price: 20n })],
    used: new Map([[addr(2), used({ cpu: 1 })]]),
  });
  const before = structuredClone(snap);
  const a = planMatches(snap, config, NOW);
  const b = planMatches(snap, config, NOW);
  assert.deepEqual(a, b);
  assert.deepEqual(snap, before);
});

test("the price score is the share of the budget kept, rounded down, as bigints give it, for any prices (its float path is only taken where exact)", () => {
  const exact = (maxPrice: bigint, price: bigint) => (maxPrice === 0n ? 100 : Number(((maxPrice - price) * 100n) / maxPrice));
  const big = fc.oneof(fc.bigInt({ min: 0n, max: 1000n }), fc.bigInt({ min: 0n, max: 2n ** 70n }), fc.bigInt({ min: 2n ** 52n, max: 2n ** 54n }));
  // Prices on and around each whole percentage of the budget: where rounding would show.
  const near = fc
    .tuple(fc.bigInt({ min: 1n, max: 2n ** 70n }), fc.integer({ min: 0, max: 100 }), fc.bigInt({ min: -2n, max: 2n }))
    .map(([maxPrice, pct, d]) => [maxPrice, (maxPrice * BigInt(pct)) / 100n + d] as const);
  fc.assert(
    fc.property(fc.oneof(fc.tuple(big, big), near), ([maxPrice, price]) => {
      const j = job({ maxPrice });
      const o = offer({ price });
      assert.equal(cheapestPrice.score(j, o, ctx()), exact(maxPrice, price));
      // The ceiling, from the price as a number (as the offer index keeps it), bounds the score of
      // any affordable price, and is the score itself but for a ratio just short of a whole number.
      if (price > maxPrice) return;
      const ceiling = cheapestPrice.ceiling!(j, o, Number(price), used({}));
      assert.ok(ceiling >= exact(maxPrice, price) && ceiling <= exact(maxPrice, price) + 1, `ceiling ${ceiling}`);
    }),
    { seed: 0x9e1c, numRuns: 3000 },
  );
});

test("the mediators filter accepts exactly when the deal's mediator set (dealMediators) is not empty, whatever the case and repeats of the addresses", () => {
  const pool = [mediatorA, mediatorB, jc, addr(1), addr(2)];
  const spelled = fc
    .tuple(fc.constantFrom(...pool), fc.constantFrom("lower", "upper", "as is"))
    .map(([a, c]) => (c === "lower" ? (a.toLowerCase() as Address) : c === "upper" ? (`0x${a.slice(2).toUpperCase()}` as Address) : a));
  fc.assert(
    fc.property(
      fc.array(spelled, { maxLength: 4 }),
      fc.array(spelled, { maxLength: 4 }),
      fc.constantFrom(addr(1), addr(2)),
      (jobMediators, offerMediators, provider) => {
        const j = job({ mediators: jobMediators });
        const o = offer({ mediators: offerMediators, provider });
        const accepted = mediatorAccepted.filter(j, o, ctx()) === undefined;
        const set = dealMediators(jobMediators, offerMediators, [j.jobCreator, provider]);
        assert.equal(accepted, jobMediators.length === 0 || set.length > 0);
      },
    ),
    { seed: 0x3ed1, numRuns: 2000 },
  );
});
