// planEndings as a pure function: what ending deals does to the rest of the book, replica
// groups, abandoned job offers and silent providers included.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Address, Hex } from "viem";
import { cidForBytes, type DealRecord, type DealStatus } from "@lily/protocol";
import { planEndings, type Ending } from "../src/index.ts";

const hex = (n: number) => `0x${n.toString(16).padStart(64, "0")}` as Hex;
const addr = (n: number) => `0x${n.toString(16).padStart(40, "0")}` as Address;
const wasm = cidForBytes(new TextEncoder().encode("primes.wasm"));
const JOB = hex(0x10);

/** Replica `n` of JOB (provider n), in `status`. */
const deal = (n: number, status: DealStatus, policy = 2): DealRecord => ({
  id: hex(n),
  jobOfferId: JOB,
  resourceOfferId: hex(0x100 + n),
  module: wasm,
  inputs: wasm,
  status,
  updatedAt: 1,
  deal: {
    jobCreator: addr(0xc1),
    provider: addr(n),
    jobOffer: JOB,
    resourceOffer: hex(0x100 + n),
    price: 5n,
    collateral: 5n,
    openBy: 50n,
    deadline: 100n,
    policy,
    policyParam: policy === 2 ? 3n : 0n,
    mediationFee: 1n,
    mediators: hex(0xee),
    replicas: policy === 2 ? hex(0xaa) : hex(0),
    moduleCreator: addr(0),
    royaltyBps: 0,
  },
});
const rejectedBy = (d: DealRecord): Ending => ({
  deal: d,
  status: "rejected",
  error: "busy",
  why: `provider ${d.deal.provider} rejected deal ${d.id}: busy`,
  exclude: "rejected",
});

const cases: { says: string; group: DealRecord[]; ending: number; reopened: boolean; broken: number[] }[] = [
  { says: "a trust deal rejected reopens its job offer", group: [deal(1, "proposed", 0)], ending: 0, reopened: true, broken: [] },
  { says: "a trust deal timing out reopens its job offer", group: [deal(1, "opened", 0)], ending: 0, reopened: true, broken: [] },
  {
    says: "a replica rejected before any opened breaks the group",
    group: [deal(1, "proposed"), deal(2, "signed"), deal(3, "proposed")],
    ending: 1,
    reopened: true,
    broken: [1, 3],
  },
  {
    says: "a replica rejected after another opened leaves the group to the contract",
    group: [deal(1, "opened"), deal(2, "signed"), deal(3, "proposed")],
    ending: 1,
    reopened: false,
    broken: [],
  },
  {
    says: "a replica already committed keeps the group on chain too",
    group: [deal(1, "committed"), deal(2, "signed"), deal(3, "timed-out")],
    ending: 1,
    reopened: false,
    broken: [],
  },
  {
    says: "replicas already rejected are not rejected again",
    group: [deal(1, "rejected"), deal(2, "proposed"), deal(3, "proposed")],
    ending: 1,
    reopened: true,
    broken: [3],
  },
];

for (const c of cases) {
  test(`endings: ${c.says}`, () => {
    const culprit = c.group[c.ending]!;
    const plan = planEndings([rejectedBy(culprit)], new Map([[JOB, c.group]]));
    assert.deepEqual(plan.deals[0], { id: culprit.id, status: "rejected", error: "busy" });
    assert.deepEqual(plan.exclusions, [{ jobOfferId: JOB, provider: culprit.deal.provider, reason: "rejected" }], "only the culprit is excluded");
    assert.deepEqual(plan.reopen, c.reopened ? [{ jobOfferId: JOB, dealId: culprit.id }] : []);
    assert.deepEqual(
      plan.deals.slice(1),
      c.broken.map((n) => ({
        id: hex(n),
        status: "rejected",
        error: `replica group broken: provider ${addr(2)} rejected deal ${hex(2)}: busy`,
        brokenBy: culprit.id,
      })),
    );
  });
}

test("endings: several replicas of one group dropped together reopen it once", () => {
  const group = [deal(1, "proposed"), deal(2, "proposed"), deal(3, "signed")];
  const plan = planEndings([rejectedBy(group[0]!), rejectedBy(group[1]!)], new Map([[JOB, group]]));
  assert.deepEqual(
    plan.deals.map((d) => [d.id, d.brokenBy]),
    [
      [hex(1), undefined],
      [hex(2), undefined],
      [hex(3), hex(1)],
    ],
  );
  assert.deepEqual(plan.reopen, [{ jobOfferId: JOB, dealId: hex(1) }]);
  assert.equal(plan.exclusions.length, 2);
});

test("endings: a deal no longer holding its job offer releases nothing", () => {
  const plan = planEndings([rejectedBy(deal(9, "proposed"))], new Map([[JOB, [deal(1, "proposed"), deal(2, "proposed")]]]));
  assert.deepEqual([plan.deals.length, plan.reopen], [1, []]);
});

test("endings: a job creator that did not sign abandons its job offer: never reopened, its other unopened replicas dropped", () => {
  const group = [deal(1, "proposed"), deal(2, "signed"), deal(3, "proposed")];
  const abandoned: Ending = {
    deal: group[0]!,
    status: "rejected",
    error: "not signed by the job creator before its openBy",
    why: `deal ${hex(1)} not signed by the job creator`,
    abandon: true,
  };
  const plan = planEndings([abandoned], new Map([[JOB, group]]));
  assert.deepEqual(plan.abandon, [JOB]);
  assert.deepEqual(plan.reopen, []);
  assert.deepEqual(
    plan.deals.slice(1).map((d) => [d.id, d.status, d.brokenBy]),
    [
      [hex(2), "rejected", hex(1)],
      [hex(3), "rejected", hex(1)],
    ],
  );
  assert.deepEqual([plan.exclusions, plan.deactivate], [[], []], "no provider is blamed for it");
});

test("endings: a provider that did not sign is excluded and its offer deactivated, once however many deals it left", () => {
  const group = [deal(1, "proposed", 0)];
  const silent = (d: DealRecord): Ending => ({ deal: d, status: "rejected", why: "not signed", exclude: "did not sign", deactivate: true });
  const plan = planEndings([silent(group[0]!), silent({ ...deal(1, "proposed", 0), id: hex(9), jobOfferId: hex(0x11) })], new Map([[JOB, group]]));
  assert.deepEqual(plan.deactivate, [addr(1)]);
  assert.deepEqual(plan.reopen, [{ jobOfferId: JOB, dealId: hex(1) }]);
});

test("endings: a replica rejected for never opening does not keep its group on chain, whatever it reported", () => {
  const group = [deal(1, "opened"), deal(2, "signed"), deal(3, "signed")];
  const neverOpened = group.map((d): Ending => ({ deal: d, status: "rejected", error: "not opened by its openBy", why: "not opened" }));
  const plan = planEndings(neverOpened, new Map([[JOB, group]]));
  assert.deepEqual(plan.reopen, [{ jobOfferId: JOB, dealId: hex(1) }], "the whole group never reached the chain: the job is matched again");
});
