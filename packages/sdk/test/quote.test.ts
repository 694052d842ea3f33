// A quote prices a policy against the provider the solver would most likely pick: the cheapest
// that allows the module within the budget. It runs nothing and locks nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { isLilyError, type ResourceOffer } from "@lily/protocol";
import { quoteFromOffers, type QuoteJobParams } from "../src/quoteJob.ts";
import { LILY, module, otherModule, providers, resourceOffer } from "./offers.ts";

const offer = async (i: number, o: Partial<ResourceOffer>) => (await resourceOffer(providers[i]!, o)).offer;
const params = (o: Partial<QuoteJobParams>) => ({
  module: "cowsay@1.0.0",
  moduleCid: module,
  policy: "trust",
  maxPrice: 10n * LILY,
  mediationFee: LILY,
  jobs: 10,
  ...o,
});

test("a quote is against the cheapest provider that allows the module within the budget", async () => {
  const offers = [
    await offer(0, { price: LILY / 2n, modules: [otherModule] }), // cheapest, but not this module
    await offer(1, { price: 20n * LILY }), // over budget
    await offer(2, { price: 2n * LILY }),
    await offer(3, { price: 3n * LILY }),
  ];
  const q = quoteFromOffers(params({ policy: "optimistic:10m" }), offers);
  assert.deepEqual([q.provider, q.price, q.policy], [providers[2]!.address, 2n * LILY, "optimistic:10m"]);
});

const table: {
  name: string;
  policy: string;
  price: bigint;
  collateral: bigint;
  expect: Partial<{ extraCost: bigint; lockedExtra: bigint; perJobCatch: number; unsafe: RegExp | undefined }>;
}[] = [
  {
    name: "trust costs nothing extra and catches nothing",
    policy: "trust",
    price: 2n * LILY,
    collateral: 5n * LILY,
    expect: { extraCost: 0n, lockedExtra: 0n, perJobCatch: 0, unsafe: undefined },
  },
  {
    name: "optimistic locks the fee reserve and costs nothing extra",
    policy: "optimistic:2m",
    price: 2n * LILY,
    collateral: 5n * LILY,
    expect: { extraCost: 0n, lockedExtra: LILY, unsafe: undefined },
  },
  {
    name: "audit:50% costs half a fee and catches half",
    policy: "audit:50%",
    price: 2n * LILY,
    collateral: 5n * LILY,
    expect: { extraCost: LILY / 2n, perJobCatch: 0.5, unsafe: undefined },
  },
  {
    name: "audit:10% against a collateral that cannot back it is unsafe, and says what would be",
    policy: "audit:10%",
    price: 2n * LILY,
    collateral: 5n * LILY,
    expect: { unsafe: /cheating would pay/ },
  },
  {
    name: "replicate:3 pays two more prices and holds three fees",
    policy: "replicate:3",
    price: 2n * LILY,
    collateral: 5n * LILY,
    expect: { extraCost: 4n * LILY, lockedExtra: 4n * LILY + 3n * LILY, perJobCatch: 1 },
  },
];

for (const c of table) {
  test(`quote: ${c.name}`, async () => {
    const q = quoteFromOffers(params({ policy: c.policy }), [await offer(0, { price: c.price, collateral: c.collateral })]);
    for (const [k, v] of Object.entries(c.expect)) {
      if (v instanceof RegExp) assert.match(q.unsafe ?? "", v, k);
      else assert.deepEqual(q[k as keyof typeof q], v, k);
    }
  });
}

test("no provider offers the module within the budget: NO_MATCH naming --max-price", async () => {
  const e = (() => {
    try {
      return quoteFromOffers(params({ maxPrice: LILY }), []);
    } catch (err) {
      return err;
    }
  })();
  assert.ok(isLilyError(e, "NO_MATCH"));
  assert.equal(e.field, "--max-price");
});
