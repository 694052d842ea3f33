// The dry run (`explainJobOffer`): how the solver would match an unsigned job offer now, without
// storing anything: each provider's first rejection, the candidates, whether waiting could help,
// and the price at which the job would clear.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { hashRecord, type ResourceOffer } from "@lily/protocol";
import { startTestChain, startTestSolver, parties, resourceOffer, jobOffer, signer, cid, fails, type TestChain } from "./harness.ts";

let chain: TestChain;
before(async () => {
  chain = await startTestChain();
});
after(() => chain.stop());

test("explain names each provider's first rejection, lists the candidates cheapest first, and stores nothing", async (t) => {
  const { api } = await startTestSolver(t, chain);
  const sign = signer(chain.domain);
  const p = await parties(chain, ["wrongModule", "tooDear", "unfunded", "busy", "fitA", "fitB", "jc", "other"], ["unfunded"]);
  const offers: Record<"wrongModule" | "tooDear" | "unfunded" | "busy" | "fitA" | "fitB", Partial<ResourceOffer>> = {
    wrongModule: { modules: [cid("other.wasm")] },
    tooDear: { price: 500n },
    unfunded: { price: 1n, collateral: 10n },
    busy: { cpu: 1, price: 5n },
    fitA: { price: 60n, collateral: 11n },
    fitB: { price: 40n, collateral: 12n },
  };
  const ids: Record<string, `0x${string}`> = {};
  for (const [name, o] of Object.entries(offers)) {
    const rp = p[name as keyof typeof offers];
    ids[name] = (await api.postResourceOffer({ body: await sign.resourceOffer(rp, resourceOffer(rp, o)) })).id;
  }
  await api.postJobOffer({ body: await sign.jobOffer(p.other, jobOffer(p.other, { cpu: 1, maxPrice: 5n })) }); // takes busy's one cpu
  const before = (await api.listDeals({})).deals;

  const offer = jobOffer(p.jc, { cpu: 1 });
  const explained = await api.explainJobOffer({ body: { offer } });
  assert.deepEqual(explained.rejections, {
    [p.wrongModule.address]: `module: module ${offer.module} is not in the provider's allow-list`,
    [p.tooDear.address]: "price: price 0.0000000000000005 LILY is above maxPrice 0.0000000000000001 LILY",
    [p.unfunded.address]: "escrow: provider: escrow 0 LILY free, the deal would lock 0.00000000000000001 LILY",
    [p.busy.address]: "resources: cpu: needs 1, 0 of 1 free",
  });
  assert.deepEqual(explained.candidates, [
    { provider: p.fitB.address, resourceOffer: ids.fitB, price: 40n, collateral: 12n },
    { provider: p.fitA.address, resourceOffer: ids.fitA, price: 60n, collateral: 11n },
  ]);
  assert.equal(explained.matchable, true);
  assert.equal(explained.clearingPrice, 40n);

  assert.deepEqual((await api.listDeals({})).deals, before, "no deal proposed");
  await assert.rejects(api.getJobOffer({ params: { id: hashRecord(chain.domain, "JobOffer", offer) } }), fails("NOT_FOUND"), "no job offer stored");
});

test("explain says whether waiting can help, and at what price the job would clear", async (t) => {
  const { api } = await startTestSolver(t, chain);
  const sign = signer(chain.domain);
  const p = await parties(chain, ["dear", "dearer", "small", "jc", "broke", "other"], ["broke"]);
  await api.postResourceOffer({ body: await sign.resourceOffer(p.dear, resourceOffer(p.dear, { price: 300n, cpu: 2 })) });
  await api.postResourceOffer({ body: await sign.resourceOffer(p.dearer, resourceOffer(p.dearer, { price: 500n })) });
  await api.postResourceOffer({ body: await sign.resourceOffer(p.small, resourceOffer(p.small, { cpu: 1 })) });

  const cases = [
    {
      says: "over budget everywhere it fits: not matchable, clears at the least price",
      offer: jobOffer(p.jc, { cpu: 2 }),
      matchable: false,
      clearingPrice: 300n,
    },
    {
      says: "from a job creator with no escrow: not matchable",
      offer: jobOffer(p.broke, { cpu: 1, maxPrice: 1000n }),
      matchable: false,
      clearingPrice: undefined,
    },
    {
      says: "needing more than any offer has: not matchable, nothing clears",
      offer: jobOffer(p.jc, { cpu: 64, maxPrice: 1000n }),
      matchable: false,
      clearingPrice: undefined,
    },
  ];
  for (const c of cases) {
    const e = await api.explainJobOffer({ body: { offer: c.offer } });
    assert.deepEqual([e.matchable, e.clearingPrice, e.candidates], [c.matchable, c.clearingPrice, []], c.says);
  }
  // For the one offer within budget, only capacity in use stands in the way: waiting helps.
  await api.postJobOffer({ body: await sign.jobOffer(p.other, jobOffer(p.other, { cpu: 1 })) }); // takes small's one cpu
  const busy = await api.explainJobOffer({ body: { offer: jobOffer(p.jc, { cpu: 1, maxPrice: 100n }) } });
  assert.deepEqual([busy.matchable, busy.clearingPrice, busy.candidates], [true, 300n, []]);
  assert.match(busy.rejections[p.small.address]!, /^resources: /);
});

test("explain refuses what posting would refuse, naming the field", async (t) => {
  const { api } = await startTestSolver(t, chain);
  const { jc } = await parties(chain, ["jc"]);
  const far = BigInt(Math.floor(Date.now() / 1000) + 7200);
  await assert.rejects(api.explainJobOffer({ body: { offer: jobOffer(jc, { expiresAt: far }) } }), fails("INVALID_INPUT", "offer.expiresAt"));
  await assert.rejects(api.explainJobOffer({ body: { offer: jobOffer(jc, { policy: 99 }) } }), fails("INVALID_INPUT", "offer.policy"));
});
