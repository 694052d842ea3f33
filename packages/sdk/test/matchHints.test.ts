// When no provider can take a job as offered, the job creator is told what would match: the
// clearing price as a --max-price, and for a policy no provider accepts with these terms the least
// change one provider would accept.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PPM, Policy, type ResourceOffer } from "@lily/protocol";
import { whatWouldMatch } from "../src/matchHints.ts";
import { LILY, jobOffer, module, otherModule, providers, resourceOffer } from "./offers.ts";

const offer = async (i: number, o: Partial<ResourceOffer>) => (await resourceOffer(providers[i]!, o)).offer;

const cases: { name: string; job: Parameters<typeof jobOffer>[0]; offers: () => Promise<ResourceOffer[]>; clearingPrice?: bigint; hints: string[] }[] = [
  {
    name: "every provider asks more than the max price: raise it to the clearing price",
    job: { maxPrice: 2n * LILY },
    offers: async () => [await offer(0, { price: 3n * LILY }), await offer(1, { price: 4n * LILY })],
    clearingPrice: 3n * LILY,
    hints: ["--max-price 3"],
  },
  {
    name: "audit:10% that no provider's collateral backs: the least rate the best-backed provider accepts",
    // 3 LILY at 5 LILY collateral needs 60%; 3 LILY at 10 LILY needs 30%.
    job: { policy: Policy.audit, policyParam: PPM / 10n, mediationFee: LILY },
    offers: async () => [await offer(0, { price: 3n * LILY, collateral: 5n * LILY }), await offer(1, { price: 3n * LILY, collateral: 10n * LILY })],
    hints: ["--policy audit:30%"],
  },
  {
    name: "audit with a mediation fee above every collateral: lower the fee to what a collateral covers",
    job: { policy: Policy.audit, policyParam: PPM, mediationFee: 20n * LILY },
    offers: async () => [await offer(0, { price: 3n * LILY, collateral: 5n * LILY })],
    hints: ["--mediation-fee 5"],
  },
  {
    name: "optimistic with a mediation fee above every collateral: lower the fee",
    job: { policy: Policy.optimistic, policyParam: 60n, mediationFee: 8n * LILY },
    offers: async () => [await offer(0, { collateral: 5n * LILY }), await offer(1, { collateral: 6n * LILY })],
    hints: ["--mediation-fee 6"],
  },
  {
    name: "replicate:4 with only three providers that fit: ask for three",
    job: { policy: Policy.replicate, policyParam: 4n, mediationFee: LILY },
    offers: async () => [await offer(0, {}), await offer(1, {}), await offer(2, {}), await offer(3, { modules: [otherModule] })],
    hints: ["--policy replicate:3"],
  },
  {
    name: "a price too low and an audit rate too low at once: both",
    job: { maxPrice: LILY, policy: Policy.audit, policyParam: PPM / 100n, mediationFee: LILY },
    offers: async () => [await offer(0, { price: 2n * LILY, collateral: 10n * LILY })],
    clearingPrice: 2n * LILY,
    hints: ["--max-price 2", "--policy audit:20%"],
  },
  {
    name: "nobody offers the module: nothing to suggest",
    job: {},
    offers: async () => [await offer(0, { modules: [otherModule] })],
    hints: [],
  },
  {
    name: "terms every fitting provider accepts: nothing to change",
    job: { policy: Policy.audit, policyParam: PPM, mediationFee: LILY },
    offers: async () => [await offer(0, { modules: [module] })],
    hints: [],
  },
];

for (const c of cases) {
  test(c.name, async () => {
    const job = jobOffer(c.job).offer;
    assert.deepEqual(whatWouldMatch(job, c.clearingPrice === undefined ? {} : { clearingPrice: c.clearingPrice }, await c.offers()), c.hints);
  });
}
