// Only offers backed by escrow are matched: an offer nobody backs holds nothing (issue 6, item 8).
// Escrow is read from the deployed contract; the parties here deposit for real, or not at all.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { parseEther } from "viem";
import { startTestChain, startTestSolver, parties, resourceOffer, jobOffer, signer, type TestChain } from "./harness.ts";

let chain: TestChain;
before(async () => {
  chain = await startTestChain();
});
after(() => chain.stop());

test("an unfunded key's price-0 resource offer, never signed, does not stop jobs matching the funded providers", async (t) => {
  const { api } = await startTestSolver(t, chain);
  const sign = signer(chain.domain);
  const { rp, jc, mallory } = await parties(chain, ["rp", "jc", "mallory"], ["mallory"]);
  await api.postResourceOffer({ body: await sign.resourceOffer(mallory, resourceOffer(mallory, { price: 0n, collateral: parseEther("5") })) });
  await api.postResourceOffer({ body: await sign.resourceOffer(rp, resourceOffer(rp, { price: 50n })) });

  for (let i = 0; i < 3; i++) {
    const job = await api.postJobOffer({ body: await sign.jobOffer(jc, jobOffer(jc)) });
    assert.equal(job.status, "matched", `job ${i}`);
    assert.equal((await api.getDeal({ params: { id: job.dealIds[0]! } })).deal.provider, rp.address, `job ${i} goes to the funded provider`);
    assert.equal(job.rejections[mallory.address], "escrow: provider: escrow 0 LILY free, the deal would lock 5 LILY");
  }
  assert.deepEqual((await api.listDeals({ query: { provider: mallory.address } })).deals, [], "nothing was ever proposed to the unfunded key");
});

test("four job offers from unfunded keys hold no capacity: a funded job creator's job still matches", async (t) => {
  const { api } = await startTestSolver(t, chain);
  const sign = signer(chain.domain);
  const p = await parties(chain, ["rp", "jc", "sybil1", "sybil2", "sybil3", "sybil4"], ["sybil1", "sybil2", "sybil3", "sybil4"]);
  await api.postResourceOffer({ body: await sign.resourceOffer(p.rp, resourceOffer(p.rp, { cpu: 4 })) });
  for (const sybil of [p.sybil1, p.sybil2, p.sybil3, p.sybil4]) {
    const job = await api.postJobOffer({ body: await sign.jobOffer(sybil, jobOffer(sybil, { cpu: 1, maxPrice: parseEther("2") })) });
    assert.deepEqual([job.status, job.dealIds], ["open", []]);
    assert.equal(job.rejections[p.rp.address], "escrow: job creator: escrow 0 LILY free, the deal would lock 2 LILY");
  }
  const job = await api.postJobOffer({ body: await sign.jobOffer(p.jc, jobOffer(p.jc, { cpu: 4 })) });
  assert.equal(job.status, "matched", "the whole of the provider's capacity is still free");
  assert.deepEqual(
    (await api.listDeals({})).deals.map((d) => d.deal.jobCreator),
    [p.jc.address],
  );
});

test("escrow held for a party's unopened deals is not counted twice", async (t) => {
  const { api } = await startTestSolver(t, chain);
  const sign = signer(chain.domain);
  const { jc } = await parties(chain, ["jc"]);
  // Enough for one deal's collateral (3 LILY), not two.
  const { rp } = await parties(chain, ["rp"], ["rp"]);
  await chain.fund([rp], parseEther("4"));
  await api.postResourceOffer({ body: await sign.resourceOffer(rp, resourceOffer(rp, { collateral: parseEther("3") })) });
  const first = await api.postJobOffer({ body: await sign.jobOffer(jc, jobOffer(jc)) });
  const second = await api.postJobOffer({ body: await sign.jobOffer(jc, jobOffer(jc)) });
  assert.equal(first.status, "matched");
  assert.equal(second.status, "open");
  assert.equal(second.rejections[rp.address], "escrow-pending: provider: escrow 4 LILY free, 3 LILY held for unopened deals, the deal would lock 3 LILY");
});

test("a job creator's escrow backs maxPrice and the mediation reserve once per replica", async (t) => {
  const { api } = await startTestSolver(t, chain);
  const sign = signer(chain.domain);
  const mediator = (await parties(chain, ["m"], ["m"])).m.address;
  const p = await parties(chain, ["rp1", "rp2", "jc"], ["jc"]);
  await chain.fund([p.jc], parseEther("5"));
  for (const rp of [p.rp1, p.rp2])
    await api.postResourceOffer({ body: await sign.resourceOffer(rp, resourceOffer(rp, { price: 1n, collateral: parseEther("1"), mediators: [mediator] })) });
  // replicate(2): 2 × (2 LILY + 0.5 LILY) = 5 LILY, exactly what it holds; a wei more per replica is too much.
  const job = (maxPrice: bigint) => jobOffer(p.jc, { policy: 2, policyParam: 2n, maxPrice, mediationFee: parseEther("0.5"), mediators: [mediator] });
  const tooDear = await api.postJobOffer({ body: await sign.jobOffer(p.jc, job(parseEther("2") + 1n)) });
  assert.equal(tooDear.status, "open");
  assert.equal(tooDear.rejections[p.rp1.address], "escrow: job creator: escrow 5 LILY free, the deal would lock 5.000000000000000002 LILY");
  const fits = await api.postJobOffer({ body: await sign.jobOffer(p.jc, job(parseEther("2"))) });
  assert.deepEqual([fits.status, fits.dealIds.length], ["matched", 2]);
});
