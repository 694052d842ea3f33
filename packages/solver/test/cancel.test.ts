// A job creator withdraws its job offer with a signed CancelJobOffer (issue 6, item 8): nothing new
// is proposed for it, its unopened deals are dropped and their capacity freed; what opened on
// chain is the chain's to finish.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { openDeal } from "@lily/chain";
import { startTestChain, startTestSolver, parties, resourceOffer, jobOffer, signer, signBoth, fails, eventually, type TestChain } from "./harness.ts";

let chain: TestChain;
before(async () => {
  chain = await startTestChain();
});
after(() => chain.stop());

test("a signed cancel withdraws the job offer and drops its unsigned proposal, freeing the capacity; again, it changes nothing", async (t) => {
  const { api } = await startTestSolver(t, chain);
  const sign = signer(chain.domain);
  const { rp, jc, next } = await parties(chain, ["rp", "jc", "next"]);
  await api.postResourceOffer({ body: await sign.resourceOffer(rp, resourceOffer(rp, { cpu: 1 })) });
  const job = await api.postJobOffer({ body: await sign.jobOffer(jc, jobOffer(jc, { cpu: 1 })) });
  const proposalId = job.dealIds[0]!;
  const waiting = await api.postJobOffer({ body: await sign.jobOffer(next, jobOffer(next, { cpu: 1 })) });
  assert.equal(waiting.status, "open");

  const body = await sign.cancel(jc, job.id);
  const cancelled = await api.cancelJobOffer({ params: { id: job.id }, body });
  assert.deepEqual([cancelled.status, cancelled.dealIds], ["cancelled", [proposalId]]);
  const dropped = await api.getDeal({ params: { id: proposalId } });
  assert.deepEqual([dropped.status, dropped.error], ["rejected", "cancelled by its job creator"]);
  const matched = await api.getJobOffer({ params: { id: waiting.id } });
  assert.equal(matched.status, "matched", "the dropped proposal's capacity went to the waiting job");

  assert.deepEqual(await api.cancelJobOffer({ params: { id: job.id }, body }), cancelled, "a repeated cancel is a no-op");
  assert.deepEqual(await api.cancelJobOffer({ params: { id: job.id }, body: await sign.cancel(jc, job.id) }), cancelled, "so is a fresh one");
  assert.equal((await api.listDeals({ query: { jobCreator: jc.address } })).deals.length, 1, "nothing new is proposed for it");
});

test("a cancel leaves a deal both parties signed to the chain: it may still open until its openBy, so its capacity stays held", async (t) => {
  const { api } = await startTestSolver(t, chain);
  const sign = signer(chain.domain);
  const { rp, jc, next } = await parties(chain, ["rp", "jc", "next"]);
  await api.postResourceOffer({ body: await sign.resourceOffer(rp, resourceOffer(rp, { cpu: 1 })) });
  const job = await api.postJobOffer({ body: await sign.jobOffer(jc, jobOffer(jc, { cpu: 1 })) });
  const deal = await signBoth(api, chain.domain, job.dealIds[0]!, jc, rp);
  const waiting = await api.postJobOffer({ body: await sign.jobOffer(next, jobOffer(next, { cpu: 1 })) });
  const cancelled = await api.cancelJobOffer({ params: { id: job.id }, body: await sign.cancel(jc, job.id) });
  assert.equal(cancelled.status, "cancelled");
  assert.equal((await api.getDeal({ params: { id: deal.id } })).status, "signed", "anyone holding both signatures may still open it");
  assert.equal((await api.getJobOffer({ params: { id: waiting.id } })).status, "open", "the provider still holds the capacity");
});

test("a cancel not signed by the job offer's job creator, or naming another job offer, is refused and changes nothing", async (t) => {
  const { api } = await startTestSolver(t, chain);
  const sign = signer(chain.domain);
  const { rp, jc, mallory } = await parties(chain, ["rp", "jc", "mallory"]);
  await api.postResourceOffer({ body: await sign.resourceOffer(rp, resourceOffer(rp)) });
  const job = await api.postJobOffer({ body: await sign.jobOffer(jc, jobOffer(jc)) });
  const other = await api.postJobOffer({ body: await sign.jobOffer(jc, jobOffer(jc)) });
  const cases = [
    { says: "signed by a stranger in its own name", body: await sign.cancel(mallory, job.id), refused: fails("INVALID_INPUT", "cancel.jobCreator") },
    {
      says: "signed by a stranger in the job creator's name",
      body: await sign.cancel(mallory, job.id, jc.address),
      refused: fails("BAD_SIGNATURE", "signature"),
    },
    { says: "the job creator's cancel of its other job offer", body: await sign.cancel(jc, other.id), refused: fails("INVALID_INPUT", "cancel.jobOffer") },
  ];
  for (const c of cases) await assert.rejects(api.cancelJobOffer({ params: { id: job.id }, body: c.body }), c.refused, c.says);
  await assert.rejects(
    api.cancelJobOffer({ params: { id: `0x${"ab".repeat(32)}` }, body: await sign.cancel(jc, `0x${"ab".repeat(32)}`) }),
    fails("NOT_FOUND", "id"),
  );
  assert.deepEqual(await api.getJobOffer({ params: { id: job.id } }), job);
  assert.equal((await api.getDeal({ params: { id: job.dealIds[0]! } })).status, "proposed");
});

test("cancelling leaves a deal already opened on chain to the chain", async (t) => {
  const { api } = await startTestSolver(t, chain);
  const sign = signer(chain.domain);
  const { rp, jc } = await parties(chain, ["rp", "jc"]);
  await api.postResourceOffer({ body: await sign.resourceOffer(rp, resourceOffer(rp)) });
  const job = await api.postJobOffer({ body: await sign.jobOffer(jc, jobOffer(jc)) });
  const deal = await signBoth(api, chain.domain, job.dealIds[0]!, jc, rp);
  await openDeal(chain.clientOf(rp), { deal: deal.deal, jobCreatorSig: deal.jobCreatorSignature!, providerSig: deal.providerSignature! });
  await eventually(async () => ((await api.getDeal({ params: { id: deal.id } })).status === "opened" ? true : undefined));

  const cancelled = await api.cancelJobOffer({ params: { id: job.id }, body: await sign.cancel(jc, job.id) });
  assert.equal(cancelled.status, "cancelled");
  assert.equal((await api.getDeal({ params: { id: deal.id } })).status, "opened", "the opened deal runs on");
});
