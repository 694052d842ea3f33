// The indexed matcher against the naive scan it replaces: random books and jobs (fast-check,
// fixed seed), built into the index whole or through incremental adds, removes and fills, must
// give exactly the plan `planMatches` gives: the same deals in the same order, the same job-level
// reasons, and the same reason for every provider the index evaluated.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { Address, Hex } from "viem";
import { cidForBytes, type JobOffer, type ResourceOffer, type ResourceOfferRecord } from "@lily/protocol";
import { JOB_REJECTION, MODULE_BITS, OfferIndex, planIndexed, planMatches, notExpired, type Plan, type Resources, type Snapshot } from "../src/index.ts";
import { cheaperFirst } from "../src/matcher/match.ts";
import { backingKey, type BackingKey } from "../src/matcher/backing.ts";
import { NOW, addr, id, other, jc, mediatorA, mediatorB, jobRecord, offerRecord, snapshot, config, RICH, wasm } from "./matcherFixtures.ts";

const creators = [jc, addr(0xc1), addr(0xc2)];
const shapes: Partial<ResourceOffer>[] = [
  { cpu: 2, memoryMb: 2048 },
  { cpu: 4, memoryMb: 4096 },
  { cpu: 8, memoryMb: 16384, gpu: 1, vramMb: 8192 },
  { cpu: 1, memoryMb: 512 },
];
const arbOffer = fc.record({
  provider: fc.integer({ min: 1, max: 14 }),
  shape: fc.constantFrom(...shapes),
  price: fc.oneof(fc.bigInt({ min: 0n, max: 120n }), fc.constantFrom(40n, 50n)),
  collateral: fc.constantFrom(0n, 10n, 300n),
  modules: fc.constantFrom([wasm], [wasm], [wasm, other], [other], []),
  mediators: fc.constantFrom([mediatorA], [mediatorA, mediatorB], [mediatorB], [mediatorA, addr(3), jc], []),
  expired: fc.integer({ min: 0, max: 11 }).map((n) => n === 0),
});
const policies: Partial<JobOffer>[] = [
  {},
  { policy: 1, policyParam: 60n, mediationFee: 5n },
  { policy: 2, policyParam: 2n },
  { policy: 2, policyParam: 3n },
  { policy: 3, policyParam: 200_000n },
];
const arbJob = fc.record({
  creator: fc.constantFrom(...creators),
  module: fc.constantFrom(wasm, wasm, wasm, other),
  cpu: fc.integer({ min: 1, max: 5 }),
  memoryMb: fc.constantFrom(256, 1024, 4096),
  gpu: fc.constantFrom(0, 0, 0, 1),
  // 1000: ten wei per point of the price score, so offers of different prices tie
  maxPrice: fc.constantFrom(0n, 30n, 60n, 100n, 200n, 200n, 1000n),
  policy: fc.constantFrom(...policies),
  mediators: fc.constantFrom([], [], [], [mediatorA], [mediatorA, mediatorB], [mediatorB, addr(3)]),
  excluded: fc.subarray([1, 2, 3, 4], { minLength: 0, maxLength: 2 }),
});
const arbBook = fc.record({
  offers: fc.array(arbOffer, { maxLength: 30 }),
  jobs: fc.array(arbJob, { maxLength: 10 }),
  busy: fc.array(fc.tuple(fc.integer({ min: 1, max: 14 }), fc.integer({ min: 0, max: 4 })), { maxLength: 6 }),
  broke: fc.subarray([...creators, addr(1), addr(2), addr(5)], { maxLength: 2 }),
  held: fc.array(fc.tuple(fc.constantFrom(...creators, addr(1), addr(2)), fc.constantFrom(10n, 100n, RICH)), { maxLength: 3 }),
  /** How many of the offers are added before the first plan; the rest arrive after it, a few are withdrawn. */
  split: fc.nat(),
  withdraw: fc.subarray([0, 1, 2, 3, 4, 5], { maxLength: 3 }),
  /**
   * Every price and maxPrice 2^60 higher: prices a few wei apart are then the same number once
   * converted (the index compares numbers first), so the exact bigint tie-break must decide.
   */
  huge: fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
  /** Offers whose id is spelled in capitals: ids that do not order as numbers, compared as text as `byOfferId` does. */
  shout: fc.subarray([0, 1, 2, 3, 4, 5, 6, 7], { maxLength: 3 }),
});
type Book = typeof arbBook extends fc.Arbitrary<infer T> ? T : never;

const HUGE = 2n ** 60n;
const shouted = (n: number) => `0x${n.toString(16).toUpperCase().padStart(64, "0")}` as Hex;

function build(b: Book) {
  const lift = b.huge ? HUGE : 0n;
  const offers: ResourceOfferRecord[] = b.offers.map((o, i) => ({
    ...offerRecord(o.provider, {
      ...o.shape,
      price: o.price + lift,
      collateral: o.collateral,
      modules: [...o.modules],
      mediators: [...o.mediators],
      ...(o.expired && { expiresAt: BigInt(NOW) }),
    }),
    // Hex letters in the last digits, so a capital id's text order (digits < capitals < small letters) is not its numeric order.
    id: b.shout.includes(i) ? shouted(0xa0a0 + i) : id(0xa0a0 + i),
  }));
  const jobs = b.jobs.map((j, i) =>
    jobRecord(i + 1, {
      jobCreator: j.creator,
      module: j.module,
      cpu: j.cpu,
      memoryMb: j.memoryMb,
      gpu: j.gpu,
      maxPrice: j.maxPrice + lift,
      mediators: [...j.mediators],
      ...j.policy,
    }),
  );
  const used = new Map<Address, Resources>(b.busy.map(([p, cpu]) => [addr(p), { cpu, memoryMb: cpu * 512, gpu: 0, vramMb: 0 }]));
  const escrow = new Map<Address, bigint>([...creators, ...Array.from({ length: 14 }, (_, i) => addr(i + 1))].map((a) => [a, b.broke.includes(a) ? 3n : RICH]));
  const excluded = Object.fromEntries(b.jobs.map((j, i) => [id(i + 1), Object.fromEntries(j.excluded.map((p) => [addr(p), `rejected deal ${p}`]))]));
  return { offers, snap: snapshot({ jobs, used, escrow, excluded, held: new Map(b.held) }) };
}

/** Providers with exactly one offer on the book: their reason does not depend on which offer was read first. */
const singleOffer = (offers: readonly ResourceOfferRecord[]) => {
  const count = new Map<string, number>();
  for (const o of offers) count.set(o.offer.provider, (count.get(o.offer.provider) ?? 0) + 1);
  return new Set([...count].filter(([, n]) => n === 1).map(([p]) => p));
};

/** A reason about the job creator's escrow alone, the same for every offer. */
const JOB_CREATOR_ESCROW = /^escrow(-pending)?: job creator: /;

function assertSamePlan(indexed: Plan, naive: Plan, offers: readonly ResourceOfferRecord[], fullReasons: boolean) {
  assert.deepEqual(indexed.proposals, naive.proposals, "same deals, same order");
  const single = singleOffer(offers);
  assert.deepEqual([...indexed.rejections.keys()], [...naive.rejections.keys()], "reasons for the same jobs");
  for (const [job, reasons] of naive.rejections) {
    const got = indexed.rejections.get(job)!;
    const whole = got[JOB_REJECTION];
    if (!fullReasons && whole !== undefined && JOB_CREATOR_ESCROW.test(whole)) {
      // Refused as a whole, its creator's escrow short (past fullReasonsUpTo, no offer evaluated):
      // the naive scan matched it with nobody, and gave that reason wherever a pair reached it.
      assert.ok(!naive.proposals.some((p) => p.jobOfferId === job), `${job} refused for its creator's escrow was matched by the naive scan`);
      for (const why of Object.values(reasons)) if (JOB_CREATOR_ESCROW.test(why)) assert.equal(why, whole, `job creator's escrow on ${job}`);
      continue;
    }
    assert.equal(whole, reasons[JOB_REJECTION], `job-level reason of ${job}`);
    for (const [provider, why] of Object.entries(got)) if (single.has(provider)) assert.equal(why, reasons[provider], `reason for ${provider} on ${job}`);
    const unmatched = !naive.proposals.some((p) => p.jobOfferId === job);
    if (fullReasons && unmatched)
      for (const [provider, why] of Object.entries(reasons))
        if (single.has(provider)) assert.equal(got[provider], why, `full reason for ${provider} on ${job}`);
  }
}

const stats = { runs: 0, deals: 0, groups: 0 };
test("the indexed matcher plans exactly what the naive scan plans, on random books (differential)", () => {
  fc.assert(
    fc.property(arbBook, fc.boolean(), (b, fullReasons) => {
      const { offers, snap } = build(b);
      const naive = planMatches({ ...snap, offers }, config, NOW);
      const index = new OfferIndex(offers, new Map());
      const indexed = planIndexed(index, snap, config, NOW, { fullReasonsUpTo: fullReasons ? Infinity : 0 });
      stats.runs++;
      stats.deals += naive.proposals.length;
      stats.groups += naive.proposals.filter((p) => p.group).length;
      assertSamePlan(indexed, naive, offers, fullReasons);
    }),
    { seed: 0x11ee, numRuns: 600 },
  );
  // The generator must exercise matching, not only refusals: deals, replica groups among them.
  assert.ok(stats.deals >= 200, `${stats.deals} deals in ${stats.runs} books`);
  assert.ok(stats.groups >= 20, `${stats.groups} replica deals`);
});

test("incremental adds, withdrawals and fills give the same plan as the naive scan of the resulting book", () => {
  fc.assert(
    fc.property(arbBook, (b) => {
      const { offers, snap } = build(b);
      const split = b.split % (offers.length + 1);
      const index = new OfferIndex(offers.slice(0, split), new Map());
      // A first pass fills the providers it proposes to, then the book moves on.
      const first = planIndexed(index, snap, config, NOW);
      const firstNaive = planMatches({ ...snap, offers: offers.slice(0, split) }, config, NOW);
      assert.deepEqual(first.proposals, firstNaive.proposals);
      for (const o of offers.slice(split)) index.add(o);
      const gone = new Set(b.withdraw.filter((i) => i < offers.length).map((i) => offers[i]!.id));
      for (const g of gone) assert.equal(index.remove(g), true);
      const left = offers.filter((o) => !gone.has(o.id));
      assert.equal(index.size, left.length);
      // The second pass: jobs the first matched are gone, the usage is the book's again.
      const matched = new Set(first.proposals.map((p) => p.jobOfferId));
      const next: Omit<Snapshot, "offers"> = { ...snap, jobs: snap.jobs.filter((j) => !matched.has(j.id)) };
      const naive = planMatches({ ...next, offers: left }, config, NOW);
      assertSamePlan(planIndexed(index, next, config, NOW), naive, left, false);
    }),
    { seed: 0x5eed, numRuns: 400 },
  );
});

/** `config` with its first filter counting the offers the ranking evaluates. */
function countingEvaluations() {
  const counter = { evaluated: 0 };
  const counting = {
    ...notExpired,
    filter: (...a: Parameters<typeof notExpired.filter>) => {
      counter.evaluated++;
      return notExpired.filter(...a);
    },
  };
  return { counter, cfg: { ...config, filters: config.filters.map((f) => (f === notExpired ? counting : f)) } };
}

test("the index skips what cannot fit: a job evaluates only offers of its module, within budget and free capacity", () => {
  const { counter, cfg } = countingEvaluations();
  const offers = [
    ...Array.from({ length: 300 }, (_, i) => offerRecord(i + 1, { modules: [other] })),
    ...Array.from({ length: 300 }, (_, i) => offerRecord(400 + i, { price: 500n })),
    ...Array.from({ length: 300 }, (_, i) => offerRecord(800 + i, { cpu: 1 })),
    offerRecord(2000, { price: 70n }),
    offerRecord(2001, { price: 60n }),
  ];
  const escrow = new Map<Address, bigint>([jc, ...offers.map((o) => o.offer.provider)].map((a) => [a, RICH]));
  const plan = planIndexed(new OfferIndex(offers), snapshot({ jobs: [jobRecord(1, { cpu: 2 })], escrow }), cfg, NOW);
  assert.equal(plan.proposals[0]!.terms.provider, addr(2001));
  assert.ok(counter.evaluated <= 2, `evaluated ${counter.evaluated} offers`);
});

test("a job that needs a mediator reads past the offers that list none (often the cheapest), and picks what the naive scan picks", () => {
  const { counter, cfg } = countingEvaluations();
  // 1,200 offers (past `fullReasonsUpTo`), the cheapest 1,000 listing no mediator; then three that list mediator A.
  const offers = [
    ...Array.from({ length: 1_000 }, (_, i) => offerRecord(i + 1, { price: 10n, mediators: [] })),
    ...Array.from({ length: 197 }, (_, i) => offerRecord(1_100 + i, { price: 90n })),
    offerRecord(2_000, { price: 40n }),
    offerRecord(2_001, { price: 41n }),
    offerRecord(2_002, { price: 42n }),
  ];
  const escrow = new Map<Address, bigint>([jc, ...offers.map((o) => o.offer.provider)].map((a) => [a, RICH]));
  const jobs = [
    // Lists a mediator itself, under trust.
    jobRecord(1, { cpu: 2, mediators: [mediatorA] }),
    // replicate(3), whose policy needs a mediator, three distinct providers that share one.
    jobRecord(2, { cpu: 2, policy: 2, policyParam: 3n, mediationFee: 1n, mediators: [mediatorA] }),
    // Needs none: takes the cheapest.
    jobRecord(3, { cpu: 2 }),
  ];
  for (const job of jobs) {
    counter.evaluated = 0;
    const snap = snapshot({ jobs: [job], escrow });
    const plan = planIndexed(new OfferIndex(offers), snap, cfg, NOW, { fullReasonsUpTo: 0 });
    const naive = planMatches({ ...snap, offers }, config, NOW);
    assert.deepEqual(
      plan.proposals.map((p) => p.resourceOfferId),
      naive.proposals.map((p) => p.resourceOfferId),
      `job ${job.id}`,
    );
    assert.ok(plan.proposals.length > 0, `job ${job.id} matched`);
    const k = job.offer.policy === 2 ? 3 : 1;
    assert.ok(counter.evaluated <= k, `job ${job.id}: evaluated ${counter.evaluated} offers for ${k} deals`);
    if (job.offer.mediators.length > 0) assert.deepEqual(Object.keys(plan.rejections.get(job.id)!), [], "no offer without a mediator was evaluated");
  }
});

test("a fill moves a provider's offers: a provider the plan filled is ranked by what it has left", () => {
  const index = new OfferIndex([offerRecord(1, { price: 10n, cpu: 4 }), offerRecord(2, { price: 20n, cpu: 4 })]);
  const jobs = [jobRecord(1, { cpu: 3 }), jobRecord(2, { cpu: 3 }), jobRecord(3, { cpu: 3 })];
  const plan = planIndexed(index, snapshot({ jobs }), config, NOW);
  assert.deepEqual(
    plan.proposals.map((p) => [p.jobOfferId, p.terms.provider]),
    [
      [id(1), addr(1)],
      [id(2), addr(2)],
    ],
  );
  assert.deepEqual(index.used.get(addr(1)), { cpu: 3, memoryMb: 512, gpu: 0, vramMb: 0 });
  // The book's usage comes back with the next pass: a provider whose deal ended owes nothing.
  index.syncUsed(new Map([[addr(2), { cpu: 3, memoryMb: 512, gpu: 0, vramMb: 0 }]]));
  assert.equal(index.used.has(addr(1)), false);
  const again = planIndexed(index, snapshot({ jobs: [jobs[2]!], used: new Map(index.used) }), config, NOW);
  assert.equal(again.proposals[0]!.terms.provider, addr(1));
});

test("the book's usage synced pass after pass (providers busy, freed, changed, listed at zero): the index owes what the last pass says and plans as the naive scan", () => {
  const usage = fc.tuple(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 0, max: 4 }), fc.constantFrom(0, 512, 2048));
  fc.assert(
    fc.property(fc.array(fc.array(usage, { maxLength: 8 }), { minLength: 1, maxLength: 6 }), (passes) => {
      const offers = Array.from({ length: 10 }, (_, i) => offerRecord(i + 1, { price: BigInt(10 + ((i * 7) % 5)), cpu: 4, memoryMb: 4096 }));
      const escrow = new Map<Address, bigint>([jc, ...offers.map((o) => o.offer.provider)].map((a) => [a, RICH]));
      const index = new OfferIndex(offers);
      for (const pass of passes) {
        const used = new Map(pass.map(([p, cpu, memoryMb]): [Address, Resources] => [addr(p), { cpu, memoryMb, gpu: 0, vramMb: 0 }]));
        index.syncUsed(used);
        const owing = [...used].filter(([, r]) => r.cpu !== 0 || r.memoryMb !== 0);
        assert.deepEqual(new Map([...index.used].sort()), new Map(owing.sort()));
        const snap = snapshot({ jobs: [jobRecord(1, { cpu: 2, memoryMb: 1024 }), jobRecord(2, { cpu: 3, memoryMb: 1024 })], used, escrow });
        const naive = planMatches({ ...snap, offers }, config, NOW);
        // Planning fills the index with its proposals; the next pass syncs it back to the book's usage.
        assert.deepEqual(planIndexed(index, snap, config, NOW).proposals, naive.proposals);
      }
    }),
    { seed: 0x5e5e, numRuns: 200 },
  );
});

test("a large book, matched one job at a time as providers fill, plans what the naive scan plans (chunked lists, usage levels)", () => {
  // Thousands of offers in few classes: lists split into chunks, and providers that take deals
  // move between usage levels (or stay, when their usage rounds to the same level).
  const big: Partial<ResourceOffer>[] = [
    { cpu: 8, memoryMb: 8192 },
    { cpu: 4, memoryMb: 4096 },
    { cpu: 16, memoryMb: 32768, gpu: 2, vramMb: 16384 },
  ];
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.constantFrom(...big), fc.bigInt({ min: 10n, max: 60n })), { minLength: 1500, maxLength: 2500 }),
      fc.array(
        fc.record({
          cpu: fc.integer({ min: 1, max: 6 }),
          memoryMb: fc.constantFrom(512, 1024, 3000),
          gpu: fc.constantFrom(0, 0, 1),
          maxPrice: fc.constantFrom(15n, 40n, 100n),
        }),
        {
          minLength: 40,
          maxLength: 80,
        },
      ),
      (book, jobs) => {
        // A few providers hold several offers, so a fill moves more than one.
        const offers = book.map(([shape, price], i) => ({ ...offerRecord(1 + (i % 1400), { ...shape, price }), id: id(0x10000 + i) }));
        const escrow = new Map<Address, bigint>([jc, ...offers.map((o) => o.offer.provider)].map((a) => [a, RICH]));
        const index = new OfferIndex(offers);
        jobs.forEach((j, n) => {
          const snap = snapshot({ jobs: [jobRecord(n + 1, j)], escrow, used: new Map(index.used) });
          const naive = planMatches({ ...snap, offers }, config, NOW);
          assertSamePlan(planIndexed(index, snap, config, NOW, { fullReasonsUpTo: 0 }), naive, offers, false);
        });
      },
    ),
    { seed: 0xb16b00c, numRuns: 4 },
  );
});

test("ties on price go to the lower id as text, whatever the ids' spelling or the prices' size (the index compares numbers where that is exact)", () => {
  // Same shape, prices equal or a few wei apart beyond 2^53 (equal once converted to numbers),
  // beyond 2^24 (equal once rounded to the index's 32-bit keys) or beyond 2^128 (every key
  // Infinity), ids random, in small or capital letters, or sharing all but their last bytes
  // (ids are not compared as numbers any more; kept as a case): only exact tie-breaks order these.
  const hexId = fc.tuple(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.constantFrom("lower", "upper", "shared prefix")).map(([b, spelling]) => {
    const h = Buffer.from(b).toString("hex");
    return `0x${spelling === "upper" ? h.toUpperCase() : spelling === "shared prefix" ? `${"ab".repeat(29)}${h.slice(58)}` : h}` as Hex;
  });
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.tuple(hexId, fc.constantFrom(0n, 1n, 3n)), { minLength: 2, maxLength: 40, selector: ([i]) => i.toLowerCase() }),
      fc.constantFrom(50n, 10n ** 12n, HUGE, 2n ** 130n),
      fc.integer({ min: 1, max: 6 }),
      (book, base, jobs) => {
        const offers = book.map(([offerId, extra], i) => ({ ...offerRecord(i + 1, { price: base + extra }), id: offerId }));
        const escrow = new Map<Address, bigint>([jc, ...offers.map((o) => o.offer.provider)].map((a) => [a, RICH]));
        const snap = snapshot({ jobs: Array.from({ length: jobs }, (_, n) => jobRecord(n + 1, { cpu: 3, maxPrice: base + 5n })), escrow });
        const index = new OfferIndex(offers);
        const naive = planMatches({ ...snap, offers }, config, NOW);
        assert.deepEqual(planIndexed(index, snap, config, NOW).proposals, naive.proposals);
        // Each class lists its offers cheapest first, ties by id as text, each once; withdrawn ones are gone.
        const listed = () => index.listed(wasm).classes.flat();
        const sortedWithin = () => {
          for (const list of index.listed(wasm).classes) {
            for (let i = 1; i < list.length; i++) assert.ok(cheaperFirst(list[i - 1]!, list[i]!) < 0, "cheapest first, then the lower id");
          }
        };
        sortedWithin();
        const gone = offers.filter((_, i) => i % 3 === 0);
        for (const o of gone) assert.equal(index.remove(o.id), true);
        sortedWithin();
        assert.deepEqual(new Set(listed().map((o) => o.id)), new Set(offers.filter((o) => !gone.includes(o)).map((o) => o.id)));
      },
    ),
    { seed: 0x7135, numRuns: 300 },
  );
});

test("offers at one price, more than a chunk of the index holds, are each found to move and to withdraw", () => {
  fc.assert(
    fc.property(fc.integer({ min: 600, max: 1200 }), fc.integer({ min: 1, max: 2 ** 31 }), (count, shuffle) => {
      const offers = Array.from({ length: count }, (_, i) => ({ ...offerRecord(i + 1, { price: 40n, cpu: 8 }), id: id(0x5000 + ((i * 7919) % count)) }));
      const index = new OfferIndex(offers);
      const order = offers.map((o, i) => ({ o, k: (i * shuffle) % 1_000_003 })).sort((a, b) => a.k - b.k);
      // Half the providers take a deal (their offers move class), then every offer is withdrawn.
      for (const { o } of order.slice(0, count / 2)) index.useMore(o.offer.provider, { cpu: 4, memoryMb: 512, gpu: 0, vramMb: 0 });
      const listed = () => index.listed(wasm).classes.reduce((n, c) => n + c.length, 0);
      assert.equal(listed(), count);
      order.forEach(({ o }, n) => {
        assert.equal(index.remove(o.id), true, `withdraw ${o.id}`);
        if (n % 97 === 0) assert.equal(listed(), count - n - 1);
      });
      assert.equal(index.size, 0);
      assert.equal(index.listed(wasm).classes.length, 0);
    }),
    { seed: 0xc4c4, numRuns: 8 },
  );
});

test("ties on price stay in id order as the ids' shared prefix shrinks (tie keys made again), with ids of any length or characters, and plans stay the naive scan's", () => {
  // The index orders offers of one price by a few characters of their ids, read from where the
  // ids it has seen start to differ. Ids here share long prefixes that later ids break (the keys
  // are made again), differ only past the characters a key reads, are prefixes of one another, or
  // hold characters past one byte (no key: compared as text). Spread over chunks (600+ offers at
  // few prices), moved by fills, withdrawn: every list stays cheapest first, then lowest id.
  const alphabet = ["0", "1", "a", "A", "é", "\u4e2d"];
  const arbId = fc
    .tuple(fc.constantFrom(0, 4, 9, 20), fc.array(fc.constantFrom(...alphabet), { minLength: 0, maxLength: 12 }))
    .map(([shared, tail]) => `0x${"7".repeat(shared)}${tail.join("")}` as Hex);
  fc.assert(
    fc.property(
      fc.uniqueArray(arbId, { minLength: 600, maxLength: 900 }),
      fc.array(fc.integer({ min: 0, max: 10_000 }), { minLength: 40, maxLength: 80 }),
      (ids, fills) => {
        // Longest shared prefixes first, so later ids shrink it while many offers are listed.
        const byShared = [...ids].sort((a, b) => b.length - a.length);
        const offers = byShared.map((offerId, i) => ({ ...offerRecord(i + 1, { price: 40n + BigInt(i % 3), cpu: 8 }), id: offerId }));
        const index = new OfferIndex();
        const sortedWithin = () => {
          for (const list of index.listed(wasm).classes)
            for (let i = 1; i < list.length; i++) assert.ok(cheaperFirst(list[i - 1]!, list[i]!) < 0, `${list[i - 1]!.id} before ${list[i]!.id}`);
        };
        offers.forEach((o, n) => {
          index.add(o);
          if (n % 150 === 0) sortedWithin();
        });
        sortedWithin();
        for (const f of fills) index.useMore(offers[f % offers.length]!.offer.provider, { cpu: 1 + (f % 5), memoryMb: 256, gpu: 0, vramMb: 0 });
        sortedWithin();
        const escrow = new Map<Address, bigint>([jc, ...offers.map((o) => o.offer.provider)].map((a) => [a, RICH]));
        const snap = snapshot({ jobs: Array.from({ length: 5 }, (_, n) => jobRecord(n + 1, { cpu: 3, maxPrice: 45n })), escrow, used: new Map(index.used) });
        const naive = planMatches({ ...snap, offers }, config, NOW);
        assert.deepEqual(planIndexed(index, snap, config, NOW).proposals, naive.proposals);
        for (const o of offers.filter((_, i) => i % 2 === 0)) assert.equal(index.remove(o.id), true);
        sortedWithin();
      },
    ),
    { seed: 0x7e5, numRuns: 25 },
  );
});

test("many modules, some allowed by most offers and some by few: dense and sparse modules change side as the book changes, and every plan is the naive scan's", () => {
  // 40 modules, more than a mask has bits: popular ones are read from the shared classes by their
  // bit, rare ones from their own classes; adds and withdrawals move modules between the two
  // (and a module that grows popular takes the bit of one that shrank). Plans in between, with
  // providers filling, must stay exactly the naive scan's.
  const modules = Array.from({ length: 40 }, (_, i) => cidForBytes(new TextEncoder().encode(`module-${i}.wasm`)));
  const seen = { dense: 0, sparse: 0 };
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 2 ** 31 - 1 }),
      fc.array(fc.constantFrom("add", "add", "add", "withdraw", "plan", "shift"), { minLength: 8, maxLength: 14 }),
      (seed, steps) => {
        let s = seed;
        const rand = () => {
          s = (s * 1103515245 + 12345) & 0x7fffffff;
          return s / 0x80000000;
        };
        /** Which modules are popular now: `shift` makes others popular, so bits must change hands. */
        let popular = 0;
        const moduleOf = () => modules[(popular + Math.floor(rand() ** 3 * modules.length)) % modules.length]!;
        let next = 0;
        const book = new Map<Hex, ResourceOfferRecord>();
        const index = new OfferIndex();
        const escrow = new Map<Address, bigint>([[jc, RICH]]);
        let jobs = 0;
        for (const step of steps) {
          if (step === "shift") popular += 7;
          else if (step === "add")
            for (let i = 0; i < 120; i++) {
              const n = ++next;
              const r = {
                ...offerRecord(1 + (n % 300), {
                  ...shapes[Math.floor(rand() * shapes.length)],
                  price: BigInt(10 + Math.floor(rand() * 40)),
                  modules: [...new Set(Array.from({ length: 1 + Math.floor(rand() * 5) }, moduleOf))],
                }),
                id: id(0x9000 + n),
              };
              escrow.set(r.offer.provider, RICH);
              book.set(r.id, r);
              index.add(r);
            }
          else if (step === "withdraw")
            for (const r of [...book.values()].filter(() => rand() < 0.4)) {
              book.delete(r.id);
              assert.equal(index.remove(r.id), true);
            }
          else {
            const snap = snapshot({
              jobs: Array.from({ length: 6 }, () =>
                jobRecord(++jobs, { module: moduleOf(), cpu: 1 + Math.floor(rand() * 3), memoryMb: 512, maxPrice: BigInt(20 + Math.floor(rand() * 40)) }),
              ),
              escrow,
              used: new Map(index.used),
            });
            const offers = [...book.values()];
            assertSamePlan(planIndexed(index, snap, config, NOW), planMatches({ ...snap, offers }, config, NOW), offers, false);
          }
          assert.equal(index.size, book.size);
          // Each module lists exactly the offers that allow it, whichever side it is on.
          for (const m of modules) {
            const { dense, classes } = index.listed(m);
            const listed = classes.flat().map((o) => o.id);
            assert.deepEqual(new Set(listed), new Set([...book.values()].filter((o) => o.offer.modules.includes(m)).map((o) => o.id)), `offers of ${m}`);
            assert.equal(listed.length, new Set(listed).size, "each offer once");
            if (classes.length > 0) seen[dense ? "dense" : "sparse"]++;
          }
        }
      },
    ),
    { seed: 0x40d, numRuns: 25 },
  );
  assert.ok(seen.dense > 0 && seen.sparse > 0, `both sides read: ${JSON.stringify(seen)}`);
});

test("modules that grow popular once every mask bit is taken take the bits of modules that shrank, and plans stay the naive scan's", () => {
  const modules = Array.from({ length: 40 }, (_, i) => cidForBytes(new TextEncoder().encode(`module-${i}.wasm`)));
  const early = modules.slice(0, MODULE_BITS);
  const late = modules.slice(MODULE_BITS);
  let n = 0;
  const make = (allowed: string[], price: bigint) => ({ ...offerRecord(1 + (n % 500), { price, modules: allowed }), id: id(0x7000 + ++n) });
  const first = Array.from({ length: 400 }, (_, i) => make(early, BigInt(20 + (i % 17))));
  const second = Array.from({ length: 400 }, (_, i) => make([modules[0]!, ...late], BigInt(20 + (i % 13))));
  const index = new OfferIndex(first);
  const escrow = new Map<Address, bigint>([jc, ...[...first, ...second].map((o) => o.offer.provider)].map((a) => [a, RICH]));
  let jobs = 0;
  const book = new Map(first.map((o) => [o.id, o]));
  const check = () => {
    const snap = snapshot({
      jobs: [modules[0]!, modules[5]!, modules[30]!, modules[33]!, modules[39]!].map((module) => jobRecord(++jobs, { module, cpu: 2, maxPrice: 30n })),
      escrow,
      used: new Map(index.used),
    });
    const offers = [...book.values()];
    assertSamePlan(planIndexed(index, snap, config, NOW), planMatches({ ...snap, offers }, config, NOW), offers, false);
    for (const m of modules) {
      const listed = index.listed(m).classes.flat();
      assert.equal(listed.length, offers.filter((o) => o.offer.modules.includes(m)).length, `offers of ${m}`);
    }
  };
  check();
  assert.ok(
    early.every((m) => index.listed(m).dense),
    `the first ${MODULE_BITS} modules take every bit`,
  );
  for (const o of second) {
    index.add(o);
    book.set(o.id, o);
  }
  check();
  assert.ok(
    late.every((m) => !index.listed(m).dense),
    "as many offers allow them as the dense ones: no bit changes hands",
  );
  for (const o of first.slice(0, 300)) {
    index.remove(o.id);
    book.delete(o.id);
  }
  // Withdrawals alone leave the sides as they are until the next check of every module: a few more adds.
  for (const o of first.slice(0, 300)) {
    index.add(o);
    index.remove(o.id);
  }
  check();
  assert.ok(
    late.every((m) => index.listed(m).dense),
    "the modules now allowed by four times as many offers hold bits",
  );
  assert.equal(modules.filter((m) => index.listed(m).dense).length, MODULE_BITS);
  check();
});

test("on a trust network (trust jobs backed by LilyTrustDeals' escrow, the others by LilyDeals'), the indexed matcher plans what the naive scan plans", () => {
  let trustRefusals = 0;
  let trustDeals = 0;
  fc.assert(
    fc.property(arbBook, fc.boolean(), fc.subarray([...creators, addr(1), addr(2), addr(5)], { maxLength: 3 }), (b, fullReasons, trustBroke) => {
      const { offers, snap } = build(b);
      // Each party's trust escrow apart from its LilyDeals one (broke in one says nothing of the
      // other), and the book's holds split between the two.
      const escrow = new Map<BackingKey, bigint>(snap.escrow);
      for (const key of snap.escrow.keys()) {
        const a = key as Address; // the fixture's escrow holds plain addresses
        escrow.set(backingKey(a, true), trustBroke.includes(a) ? 3n : RICH);
      }
      const held = new Map<BackingKey, bigint>();
      b.held.forEach(([a, v], i) => {
        const key = backingKey(a, i % 2 === 0);
        held.set(key, (held.get(key) ?? 0n) + v);
      });
      const trustSnap: Snapshot = { ...snap, escrow, held, trustEscrow: true };
      const naive = planMatches({ ...trustSnap, offers }, config, NOW);
      const indexed = planIndexed(new OfferIndex(offers, new Map()), trustSnap, config, NOW, { fullReasonsUpTo: fullReasons ? Infinity : 0 });
      for (const r of naive.rejections.values()) for (const why of Object.values(r)) if (why.includes("LilyTrustDeals escrow")) trustRefusals++;
      trustDeals += naive.proposals.filter((p) => p.terms.policy === 0).length;
      assertSamePlan(indexed, naive, offers, fullReasons);
    }),
    { seed: 0x7a57, numRuns: 300 },
  );
  assert.ok(trustRefusals > 0 && trustDeals > 0, `${trustRefusals} refusals naming the trust escrow, ${trustDeals} trust deals`);
});
