// A job that cannot run for its job creator's reason ends in a committed failure, the same bytes
// wherever it is made: the mediator, finding the same failure, rules the provider right. A
// mediator that merely cannot reach the inputs has no evidence against a provider that ran the
// job: it does not rule until it can fetch them.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { challenge, commitResult, dealId, dealState, getDealEvents, openDeal } from "@lily/chain";
import { loadJob } from "@lily/executor";
import { Policy, cidDigest, cidForRecord } from "@lily/protocol";
import { FEE, PRICE, addr, startNetwork, type Network } from "./network.ts";
import { ForgetfulStore } from "./parts.ts";
import { disputeOf, eventually, settledIn } from "./waitFor.ts";

let net: Network;
before(async () => {
  net = await startNetwork();
});
after(() => net?.stop());

test("a provider that committed the failure for inputs no store holds is ruled correct, and paid", async () => {
  const mediator = await net.startMediator(net.mediator, "mediator");
  const provider = net.providers[0]!;
  const before = await net.ledger();
  const missing = cidForRecord({ message: "stored nowhere" }).cid;
  const job = await net.postJobOffer(Policy.optimistic, 600n, "", { inputs: missing });
  const deal = await net.deriveDeal(job, await net.resourceOffer(provider, false));
  await openDeal(provider, await net.signedDeal(deal));
  const id = dealId(net.addresses, deal);
  // What an honest provider does: loadJob names the job creator's fault, and that is the result.
  const loaded = await loadJob(net.store, { module: job.offer.module, inputs: missing });
  assert.equal(loaded.ok, false);
  if (loaded.ok) return;
  assert.equal(loaded.failure.code, "INPUTS_UNAVAILABLE");
  await commitResult(provider, { deal, resultDigest: cidDigest(await net.failedResult(missing, loaded.failure)) });
  await challenge(net.jobCreator, { deal, reason: "you did not run it" });
  await net.mine(2);

  const d = await settledIn(mediator, id, ["ruled", "failed"]);
  assert.equal(d.status, "ruled", d.error);
  assert.deepEqual(d.ruling!.correct, [true]);
  assert.match(d.ruling!.details[0]!, /same failure: INPUTS_UNAVAILABLE at inputs/);
  assert.equal(await dealState(net.deployer, { dealId: id }), "settled");
  await net.assertEscrowMoved(before, { provider: PRICE, jobCreator: -PRICE - FEE, mediator: FEE });
});

test("a mediator that cannot fetch the inputs does not rule against a provider that ran the job, until it can", async () => {
  const forgetful = await net.newMediator("forgetful mediator");
  const store = new ForgetfulStore(net.store.url);
  const mediator = await net.startMediator(forgetful, "forgetful", { store });
  const provider = net.providers[0]!;
  const before = await net.ledger();
  const job = await net.postJobOffer(Policy.optimistic, 600n, "only the provider has these", { mediators: [addr(forgetful)] });
  store.lost.add(job.offer.inputs);
  const deal = await net.deriveDeal(job, await net.resourceOffer(provider, false, [addr(forgetful)]));
  await openDeal(provider, await net.signedDeal(deal));
  const id = dealId(net.addresses, deal);
  const result = await net.honestResult(id, job.offer.inputs);
  await commitResult(provider, { deal, resultDigest: cidDigest(result) });
  await challenge(net.jobCreator, { deal, reason: "a false challenge" });
  await net.mine(2);

  // It is drawn and locks the draw, but finds no evidence either way: it waits, and says why.
  const waiting = await eventually("the mediator finds it cannot judge", () => {
    const d = disputeOf(mediator, id);
    return d?.error?.includes("cannot fetch the job's inputs") ? d : undefined;
  });
  assert.notEqual(waiting.status, "failed");
  assert.equal(waiting.ruling, undefined);
  await new Promise((r) => setTimeout(r, 1000)); // several passes and retries
  assert.equal(disputeOf(mediator, id)!.status, "re-running", "still waiting, never given up");
  assert.equal(await dealState(net.deployer, { dealId: id }), "challenged", "nobody ruled against the provider");
  assert.equal((await getDealEvents(net.deployer, { dealId: id })).filter((e) => e.name === "Ruled").length, 0);
  assert.equal(await net.nonceOf(forgetful), 1, "only the lock was sent");

  // Once the inputs can be fetched, the mediator re-runs and finds the provider right.
  store.lost.delete(job.offer.inputs);
  const d = await settledIn(mediator, id, ["ruled", "failed"]);
  assert.equal(d.status, "ruled", d.error);
  assert.deepEqual(d.ruling!.correct, [true]);
  assert.equal(await dealState(net.deployer, { dealId: id }), "settled");
  await net.assertEscrowMoved(before, { provider: PRICE, jobCreator: -PRICE - FEE, "forgetful mediator": FEE });
});
