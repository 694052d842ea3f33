// The check a job creator makes before posting (`explainJobOffer` with `firstFit`): when some
// provider would take the job now, the answer is the solver's own pick, found through the index,
// with no reason for every other provider; a job nothing would take now gets the full dry run.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { hashRecord, type ResourceOffer } from "@lily/protocol";
import { startTestChain, startTestSolver, parties, resourceOffer, jobOffer, signer, cid, fails, type TestChain } from "./harness.ts";

let chain: TestChain;
before(async () => {
  chain = await startTestChain();
});
after(() => chain.stop());

test("firstFit answers with the provider a post then gets a deal with, and stores nothing", async (t) => {
  const { api } = await startTestSolver(t, chain);
  const sign = signer(chain.domain);
  const p = await parties(chain, ["wrongModule", "unfunded", "fitA", "fitB", "fitC", "jc"], ["unfunded"]);
  const offers: Record<"wrongModule" | "unfunded" | "fitA" | "fitB" | "fitC", Partial<ResourceOffer>> = {
    wrongModule: { modules: [cid("other.wasm")] },
    unfunded: { price: 1n, collateral: 10n }, // the cheapest, but its collateral is not in escrow
    fitA: { price: 60n, collateral: 11n },
    fitB: { price: 40n, collateral: 12n },
    fitC: { price: 50n, collateral: 13n },
  };
  for (const [name, o] of Object.entries(offers)) {
    const rp = p[name as keyof typeof offers];
    await api.postResourceOffer({ body: await sign.resourceOffer(rp, resourceOffer(rp, o)) });
  }
  const offer = jobOffer(p.jc, { cpu: 1 });
  const full = await api.explainJobOffer({ body: { offer } });
  const fit = await api.explainJobOffer({ body: { offer, firstFit: true } });

  assert.equal(fit.matchable, true);
  assert.deepEqual(fit.rejections, {}, "no reason computed for the providers the index never had to look at");
  assert.equal(fit.candidates.length, 1, "one job, one deal: the pick alone");
  assert.ok(
    full.candidates.some((c) => c.resourceOffer === fit.candidates[0]!.resourceOffer),
    "the pick is one of the candidates the full dry run lists",
  );
  assert.deepEqual(fit.candidates[0], full.candidates[0], "and the one it ranks first");
  assert.deepEqual((await api.listDeals({})).deals, [], "no deal proposed");
  const id = hashRecord(chain.domain, "JobOffer", offer);
  await assert.rejects(api.getJobOffer({ params: { id } }), fails("NOT_FOUND"), "no job offer stored");

  // Posting the same offer: the deal goes to the provider firstFit named.
  await api.postJobOffer({ body: await sign.jobOffer(p.jc, offer) });
  const deals = (await api.listDeals({})).deals;
  assert.equal(deals.length, 1);
  assert.equal(deals[0]!.deal.provider, fit.candidates[0]!.provider);
  assert.equal(deals[0]!.resourceOfferId, fit.candidates[0]!.resourceOffer);
});

test("firstFit gives a job nothing would take now the full dry run, reasons and all", async (t) => {
  const { api } = await startTestSolver(t, chain);
  const sign = signer(chain.domain);
  const p = await parties(chain, ["small", "dear", "jc", "other"]);
  await api.postResourceOffer({ body: await sign.resourceOffer(p.small, resourceOffer(p.small, { cpu: 1 })) });
  await api.postResourceOffer({ body: await sign.resourceOffer(p.dear, resourceOffer(p.dear, { price: 500n })) });
  await api.postJobOffer({ body: await sign.jobOffer(p.other, jobOffer(p.other, { cpu: 1, maxPrice: 100n })) }); // takes small's one cpu

  // Busy now (waiting can help), and out of reach for good: both get the dry run's own answer.
  for (const job of [jobOffer(p.jc, { cpu: 1, maxPrice: 100n }), jobOffer(p.jc, { cpu: 64, maxPrice: 100n })]) {
    const full = await api.explainJobOffer({ body: { offer: job } });
    const fit = await api.explainJobOffer({ body: { offer: job, firstFit: true } });
    assert.deepEqual(fit, full);
    assert.deepEqual(fit.candidates, []);
    assert.ok(Object.keys(fit.rejections).length >= 2, "each provider's reason is there");
  }
});
