// Finished deals release capacity (issue 6, item 10), over HTTP against a real chain: the solver
// follows deal endings from the contract's events and from chain time, whether or not the provider
// ever reports again.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { keccak256, toHex } from "viem";
import { claimTimeout, commitResult, escrowBalance, openDeal } from "@lily/chain";
import type { DealRecord } from "@lily/protocol";
import {
  startTestChain,
  startTestSolver,
  parties,
  resourceOffer,
  jobOffer,
  signer,
  signBoth,
  eventually,
  ESCROW,
  type Api,
  type TestChain,
} from "./harness.ts";

let chain: TestChain;
before(async () => {
  chain = await startTestChain();
});
after(() => chain.stop());

const statusOf = (api: Api, id: DealRecord["id"], status: DealRecord["status"]) =>
  eventually(async () => {
    const d = await api.getDeal({ params: { id } });
    return d.status === status ? d : undefined;
  });

/** A provider with room for one job, its deal with `jc` signed by both, and a second job waiting for that room. */
async function busyProvider(api: Api, timeoutSeconds: bigint) {
  const sign = signer(chain.domain);
  const { rp, jc, next } = await parties(chain, ["rp", "jc", "next"]);
  await api.postResourceOffer({ body: await sign.resourceOffer(rp, resourceOffer(rp, { cpu: 1, collateral: 7n, price: 5n })) });
  const job = await api.postJobOffer({ body: await sign.jobOffer(jc, jobOffer(jc, { cpu: 1, timeoutSeconds })) });
  const deal = await signBoth(api, chain.domain, job.dealIds[0]!, jc, rp);
  const waiting = await api.postJobOffer({ body: await sign.jobOffer(next, jobOffer(next, { cpu: 1 })) });
  assert.equal(waiting.status, "open", "the provider's one slot is held");
  return { rp, jc, job, deal, waiting };
}

const matchedTo = (api: Api, id: DealRecord["jobOfferId"]) =>
  eventually(async () => {
    const j = await api.getJobOffer({ params: { id } });
    return j.status === "matched" ? (await api.getDeal({ params: { id: j.dealIds[0]! } })).deal.provider : undefined;
  });

test("a deal that times out on chain (its provider opened it and died) frees the capacity, and the job is not left running", async (t) => {
  const { api } = await startTestSolver(t, chain, { signWindowSeconds: 2 });
  const { rp, jc, job, deal, waiting } = await busyProvider(api, 2n);
  await openDeal(chain.clientOf(rp), { deal: deal.deal, jobCreatorSig: deal.jobCreatorSignature!, providerSig: deal.providerSignature! });
  // ...and the provider dies: no report ever reaches the solver.
  await statusOf(api, deal.id, "opened");
  const timedOut = await statusOf(api, deal.id, "timed-out");
  assert.equal(timedOut.error, "deadline passed with no result committed");
  assert.equal(await matchedTo(api, waiting.id), rp.address, "its capacity went to the waiting job");
  const again = await api.getJobOffer({ params: { id: job.id } });
  assert.equal(again.status, "open", "the job goes back on the book, without that provider");
  assert.match(again.rejections[rp.address]!, /^excluded: timed out on deal 0x[0-9a-f]{64}$/);

  // The job creator claims the timeout: refunded and paid the collateral, to the wei.
  await claimTimeout(chain.clientOf(jc), { deal: deal.deal });
  assert.equal(await escrowBalance(chain.deployer, { account: jc.address }), ESCROW + 7n);
  assert.equal(await escrowBalance(chain.deployer, { account: rp.address }), ESCROW - 7n);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal((await api.getDeal({ params: { id: deal.id } })).status, "timed-out", "the event agrees; nothing moves twice");
});

test("a deal whose provider died right after committing shows committed from the chain event, and its capacity is free", async (t) => {
  const { api } = await startTestSolver(t, chain, { signWindowSeconds: 5 });
  const { rp, deal, waiting } = await busyProvider(api, 300n);
  const provider = chain.clientOf(rp);
  await openDeal(provider, { deal: deal.deal, jobCreatorSig: deal.jobCreatorSignature!, providerSig: deal.providerSignature! });
  await commitResult(provider, { deal: deal.deal, resultDigest: keccak256(toHex("the result")) });
  // ...and the provider dies before telling the solver anything.
  const committed = await statusOf(api, deal.id, "committed");
  assert.equal(committed.result, undefined, "the solver never saw the signed result, only the chain's word");
  assert.equal(await matchedTo(api, waiting.id), rp.address);
});

test("a signed deal nobody opens by its openBy is dropped, the job re-matched, and the provider that should have opened it passed over", async (t) => {
  const { api } = await startTestSolver(t, chain, { signWindowSeconds: 2 });
  const sign = signer(chain.domain);
  const { rp, rival, jc } = await parties(chain, ["rp", "rival", "jc"]);
  await api.postResourceOffer({ body: await sign.resourceOffer(rp, resourceOffer(rp, { price: 10n })) });
  await api.postResourceOffer({ body: await sign.resourceOffer(rival, resourceOffer(rival, { price: 90n })) });
  const job = await api.postJobOffer({ body: await sign.jobOffer(jc, jobOffer(jc)) });
  const deal = await signBoth(api, chain.domain, job.dealIds[0]!, jc, rp);
  assert.equal(deal.status, "signed");
  const dropped = await statusOf(api, deal.id, "rejected");
  assert.equal(dropped.error, "not opened by its openBy");
  assert.equal(await matchedTo(api, job.id), rival.address);
  const rp2 = await api.getJobOffer({ params: { id: job.id } });
  assert.match(rp2.rejections[rp.address]!, /^excluded: did not open deal 0x[0-9a-f]{64} by its openBy$/);
});
