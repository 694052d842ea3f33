import { test } from "node:test";
import assert from "node:assert/strict";
import { Policy, isLilyError } from "@lily/protocol";
import { parsePolicy, policies, policyById, caughtWithin, type PolicyTerms } from "../src/index.ts";

const cases: { text: string; name: string; param: bigint; deals: number }[] = [
  { text: "trust", name: "trust", param: 0n, deals: 1 },
  { text: "optimistic:90s", name: "optimistic", param: 90n, deals: 1 },
  { text: "optimistic:90", name: "optimistic", param: 90n, deals: 1 },
  { text: "optimistic:15m", name: "optimistic", param: 900n, deals: 1 },
  { text: "optimistic:2h", name: "optimistic", param: 7200n, deals: 1 },
  { text: "optimistic:30d", name: "optimistic", param: 2_592_000n, deals: 1 },
  { text: "optimistic", name: "optimistic", param: 3600n, deals: 1 },
  { text: "replicate:3", name: "replicate", param: 3n, deals: 3 },
  { text: "replicate:16", name: "replicate", param: 16n, deals: 16 },
  { text: "audit:0.1", name: "audit", param: 100_000n, deals: 1 },
  { text: "audit:10%", name: "audit", param: 100_000n, deals: 1 },
  { text: "audit:12.5%", name: "audit", param: 125_000n, deals: 1 },
  { text: "audit:0.0001%", name: "audit", param: 1n, deals: 1 },
  { text: "audit:1", name: "audit", param: 1_000_000n, deals: 1 },
  { text: "audit:250000ppm", name: "audit", param: 250_000n, deals: 1 },
  { text: " Audit: 5% ", name: "audit", param: 50_000n, deals: 1 },
];

for (const c of cases) {
  test(`"${c.text}" is ${c.name} with policyParam ${c.param} and ${c.deals} deal(s) per job`, () => {
    const { strategy, param } = parsePolicy(c.text);
    assert.equal(strategy.name, c.name);
    assert.equal(strategy.id, Policy[c.name as keyof typeof Policy]);
    assert.equal(param, c.param);
    assert.equal(strategy.dealsPerJob(param), c.deals);
    // format reads back to the same parameter
    assert.equal(parsePolicy(strategy.format(param)).param, param);
  });
}

const bad: { text: string; says: RegExp }[] = [
  { text: "paranoid", says: /unknown policy "paranoid"/ },
  { text: "", says: /unknown policy/ },
  { text: "trust:1", says: /trust takes no parameter/ },
  { text: "optimistic:", says: /empty parameter/ },
  { text: "optimistic:0s", says: /between 1s and 30d/ },
  { text: "optimistic:31d", says: /between 1s and 30d/ },
  { text: "optimistic:soon", says: /duration like 90s/ },
  { text: "optimistic:-5s", says: /duration like 90s/ },
  { text: "replicate:1", says: /between 2 and 16/ },
  { text: "replicate:17", says: /between 2 and 16/ },
  { text: "replicate:2.5", says: /whole number/ },
  { text: "audit:0", says: /above 0 and at most 100%/ },
  { text: "audit:0%", says: /above 0 and at most 100%/ },
  { text: "audit:150%", says: /above 0 and at most 100%/ },
  { text: "audit:1.5", says: /above 0 and at most 100%/ },
  { text: "audit:0.00000001", says: /at most 1 ppm precision/ },
  { text: "audit:ten", says: /a fraction, a percentage or ppm/ },
  { text: "audit:-0.1", says: /a fraction, a percentage or ppm/ },
];

for (const c of bad) {
  test(`"${c.text}" is refused naming --policy: ${c.says.source}`, () => {
    assert.throws(
      () => parsePolicy(c.text),
      (e) => isLilyError(e, "INVALID_INPUT") && e.field === "--policy" && c.says.test(e.message) && e.message.startsWith("--policy: "),
    );
  });
}

const E = 10n ** 18n;
const terms = (t: Partial<PolicyTerms>): PolicyTerms => ({ price: 1n * E, collateral: 20n * E, mediationFee: 1n * E, param: 0n, ...t });

const checks: { policy: keyof typeof policies; terms: PolicyTerms; rejects?: RegExp }[] = [
  { policy: "trust", terms: terms({ collateral: 0n, mediationFee: 5n * E }) },
  { policy: "optimistic", terms: terms({ param: 60n }) },
  { policy: "optimistic", terms: terms({ param: 0n }), rejects: /between 1s and 30d/ },
  { policy: "optimistic", terms: terms({ param: 2_592_001n }), rejects: /between 1s and 30d/ },
  { policy: "optimistic", terms: terms({ param: 60n, collateral: E - 1n }), rejects: /below the mediation fee/ },
  { policy: "optimistic", terms: terms({ param: 60n, collateral: E }) },
  { policy: "replicate", terms: terms({ param: 2n }) },
  { policy: "replicate", terms: terms({ param: 1n }), rejects: /between 2 and 16/ },
  { policy: "replicate", terms: terms({ param: 17n }), rejects: /between 2 and 16/ },
  { policy: "replicate", terms: terms({ param: 3n, collateral: 0n }), rejects: /below the mediation fee/ },
  // p x collateral >= price: 10% of 10 covers 1 exactly
  { policy: "audit", terms: terms({ param: 100_000n, collateral: 10n * E }) },
  { policy: "audit", terms: terms({ param: 100_000n, collateral: 10n * E - 1n }), rejects: /cheating would pay.*at least 10 LILY/ },
  { policy: "audit", terms: terms({ param: 0n }), rejects: /above 0/ },
  { policy: "audit", terms: terms({ param: 1_000_001n }), rejects: /at most 100%/ },
  { policy: "audit", terms: terms({ param: 1_000_000n, collateral: E, mediationFee: 2n * E }), rejects: /below the mediation fee/ },
];

for (const c of checks) {
  const what = Object.entries(c.terms)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
  test(`${c.policy} with ${what} is ${c.rejects ? "refused" : "safe"}`, () => {
    const reason = policies[c.policy].check(c.terms);
    if (c.rejects) assert.match(reason ?? "", c.rejects);
    else assert.equal(reason, undefined);
  });
}

const price = 2n * E;
const fee = 5n * E;
const quotes: {
  text: string;
  jobs: number;
  checkRate?: number;
  extraCost: bigint;
  lockedExtra: bigint;
  perJob: number;
  within: number;
}[] = [
  { text: "trust", jobs: 100, extraCost: 0n, lockedExtra: 0n, perJob: 0, within: 0 },
  { text: "optimistic:10m", jobs: 1, extraCost: 0n, lockedExtra: fee, perJob: 1, within: 1 },
  { text: "optimistic:10m", jobs: 10, checkRate: 0.2, extraCost: 0n, lockedExtra: fee, perJob: 0.2, within: 1 - 0.8 ** 10 },
  { text: "optimistic:10m", jobs: 10, checkRate: 0, extraCost: 0n, lockedExtra: fee, perJob: 0, within: 0 },
  { text: "replicate:2", jobs: 1, extraCost: price, lockedExtra: price + 2n * fee, perJob: 1, within: 1 },
  { text: "replicate:5", jobs: 3, extraCost: 4n * price, lockedExtra: 4n * price + 5n * fee, perJob: 1, within: 1 },
  { text: "audit:10%", jobs: 1, extraCost: fee / 10n, lockedExtra: fee, perJob: 0.1, within: 0.1 },
  { text: "audit:10%", jobs: 20, extraCost: fee / 10n, lockedExtra: fee, perJob: 0.1, within: 1 - 0.9 ** 20 },
  { text: "audit:1ppm", jobs: 1_000_000, extraCost: 5_000_000_000_000n, lockedExtra: fee, perJob: 1e-6, within: 1 - (1 - 1e-6) ** 1_000_000 },
  { text: "audit:100%", jobs: 1, extraCost: fee, lockedExtra: fee, perJob: 1, within: 1 },
];

for (const q of quotes) {
  test(`quote for ${q.text} over ${q.jobs} job(s)${q.checkRate !== undefined ? ` checking ${q.checkRate}` : ""}: extra ${q.extraCost}, catch ${q.within.toFixed(4)}`, () => {
    const { strategy, param } = parsePolicy(q.text);
    const quote = strategy.quote({ price, collateral: 50n * E, mediationFee: fee, param, jobs: q.jobs, checkRate: q.checkRate });
    assert.equal(quote.extraCost, q.extraCost);
    assert.equal(quote.lockedExtra, q.lockedExtra);
    assert.ok(Math.abs(quote.perJobCatch - q.perJob) < 1e-12, `per job ${quote.perJobCatch}`);
    assert.ok(Math.abs(quote.catchProbability - q.within) < 1e-9, `within n ${quote.catchProbability}`);
    assert.ok(quote.notes.length > 0);
  });
}

test("audit's expected extra cost rounds up to a whole token unit", () => {
  const q = policies.audit.quote({ price: 1n, collateral: 10n, mediationFee: 3n, param: 100_000n, jobs: 1 });
  assert.equal(q.extraCost, 1n); // 0.3 -> 1
});

test("a quote over zero jobs or with a check rate outside 0..1 is refused", () => {
  assert.throws(
    () => policies.trust.quote({ ...terms({}), jobs: 0 }),
    (e) => isLilyError(e, "INVALID_INPUT") && e.field === "jobs",
  );
  assert.throws(
    () => policies.optimistic.quote({ ...terms({ param: 60n }), jobs: 1, checkRate: 1.5 }),
    (e) => isLilyError(e, "INVALID_INPUT"),
  );
});

test("caughtWithin stays accurate for tiny probabilities over many jobs", () => {
  assert.ok(Math.abs(caughtWithin(1e-9, 1000) - 1e-6) < 1e-12);
});

test("every policy id in the protocol has a strategy, found by id", () => {
  for (const [name, id] of Object.entries(Policy)) assert.equal(policyById(id)?.name, name);
  assert.equal(policyById(200), undefined);
});

test("policies that can end in mediation say they need mediators", () => {
  assert.deepEqual(
    Object.values(policies)
      .filter((p) => p.needsMediators)
      .map((p) => p.name),
    ["optimistic", "replicate", "audit"],
  );
});
