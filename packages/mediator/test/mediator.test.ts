// The mediator against a real chain, store and solver: disputes raised the way the parties raise
// them (a challenge, an audit draw, a replica tally), ruled by re-running cowsay in the sandbox.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { challenge, commitResult, dealId, dealState, finalize, getDealEvents, mediatorOf, openDeal, openReplicas, settleReplicas } from "@lily/chain";
import { isAddressEqual } from "viem";
import { Policy, cidDigest, commonMediators } from "@lily/protocol";
import type { RunningMediator } from "../src/mediator.ts";
import { COLLATERAL, FEE, PRICE, addr, startNetwork, type Network } from "./network.ts";
import { disputeOf, eventually, settledIn } from "./waitFor.ts";

let net: Network;
let mediator: RunningMediator;
let outsider: RunningMediator;

before(async () => {
  net = await startNetwork();
  mediator = await net.startMediator(net.mediator, "mediator");
  outsider = await net.startMediator(net.outsider, "outsider");
});
after(() => net?.stop());

/** An optimistic deal matched by the solver, opened, with a result committed by the provider. */
async function optimisticDealWithResult(message: string, honest: boolean) {
  const provider = net.providers[0]!;
  await net.resourceOffer(provider, true);
  const job = await net.postJobOffer(Policy.optimistic, 60n, message);
  const record = await net.solver.getJobOffer({ params: { id: job.id } });
  assert.equal(record.status, "matched", JSON.stringify(record.rejections));
  const { deal } = await net.solver.getDeal({ params: { id: record.dealIds[0]! } });
  const signed = await net.signedDeal(deal);
  await openDeal(provider, signed);
  const id = dealId(net.addresses, deal);
  const result = honest ? await net.honestResult(id, job.offer.inputs) : await net.wrongResult(id, job.offer.inputs);
  await commitResult(provider, { deal, resultDigest: cidDigest(result) });
  return { deal, id };
}

test("a challenged wrong result is re-run, ruled wrong, and the provider slashed", async () => {
  const before = await net.ledger();
  const { deal, id } = await optimisticDealWithResult("hello", false);
  await challenge(net.jobCreator, { deal, reason: "wrong cow" });

  // The mediator is drawn from the hash of the block after the challenge's: until it is mined,
  // the mediator waits.
  const waiting = await eventually("the mediator sees the dispute", () => disputeOf(mediator, id));
  assert.equal(waiting.status, "seen");
  await eventually("the mediator finds the draw pending", () => (disputeOf(mediator, id)?.error?.includes("not mined yet") ? true : undefined));
  await net.mine(2);

  const d = await settledIn(mediator, id, ["ruled", "failed"]);
  assert.equal(d.status, "ruled", d.error);
  assert.equal(d.kind, "challenge");
  assert.deepEqual(d.ruling!.correct, [false]);
  assert.match(d.ruling!.details[0]!, /stdout: bytes differ/);
  assert.equal(await dealState(net.deployer, { dealId: id }), "slashed");
  await net.assertEscrowMoved(before, {
    mediator: FEE,
    provider: -COLLATERAL,
    jobCreator: COLLATERAL - FEE, // refunded the price and its reserve, and given the collateral less the fee
  });
  const ruled = (await getDealEvents(net.deployer, { dealId: id })).filter((e) => e.name === "Ruled");
  assert.equal(ruled.length, 1);
  assert.equal(ruled[0]!.txHash, d.rulingTx);
});

test("a mediator the parties did not accept records the dispute as not its own and sends nothing", async () => {
  const [first] = mediator.disputes();
  const d = await settledIn(outsider, first!.key, ["not-mine", "failed"]);
  assert.equal(d.status, "not-mine");
  // Either reason keeps it out: it is not in the list, or the dispute was already ruled on.
  assert.match(d.error!, /not in the mediator list|resolved without us/);
  assert.equal(await net.nonceOf(net.outsider), 0);
});

test("a restarted mediator resumes from its database and never rules twice", async () => {
  const earlier = mediator.disputes();
  const nonce = await net.nonceOf(net.mediator);
  await mediator.close();
  mediator = await net.startMediator(net.mediator, "mediator");

  // A new dispute after the restart is ruled, so the restarted mediator has made full passes...
  const before = await net.ledger();
  const { deal, id } = await optimisticDealWithResult("a false challenge", true);
  await challenge(net.jobCreator, { deal });
  await net.mine(2);
  const d = await settledIn(mediator, id, ["ruled", "failed"]);

  // ...a false challenge: the provider was right, is paid, and the challenger pays the fee...
  assert.equal(d.status, "ruled", d.error);
  assert.deepEqual(d.ruling!.correct, [true]);
  assert.equal(await dealState(net.deployer, { dealId: id }), "settled");
  await net.assertEscrowMoved(before, { provider: PRICE, jobCreator: -PRICE - FEE, mediator: FEE });

  // ...and the earlier ruling was not sent again: two transactions, the draw's lock and this ruling.
  assert.deepEqual(
    mediator.disputes().filter((x) => x.key !== id.toLowerCase()),
    earlier,
  );
  assert.equal(await net.nonceOf(net.mediator), nonce + 2);
});

test("an audit that hits sends the deal to the mediator, who finds the provider wrong", async () => {
  const provider = net.providers[0]!;
  const before = await net.ledger();
  const job = await net.postJobOffer(Policy.audit, 1_000_000n, "audit me"); // p = 100%: always audited
  const deal = await net.deriveDeal(job, await net.resourceOffer(provider, false));
  await openDeal(provider, await net.signedDeal(deal));
  const id = dealId(net.addresses, deal);
  await commitResult(provider, { deal, resultDigest: cidDigest(await net.wrongResult(id, job.offer.inputs)) });
  await net.mine(3); // the audit draws from the hash of commit block + 2
  const drawn = await finalize(net.jobCreator, { deal });
  assert.equal(drawn.outcome, "challenged");
  await net.mine(2);

  const d = await settledIn(mediator, id, ["ruled", "failed"]);
  assert.equal(d.status, "ruled", d.error);
  assert.equal(d.kind, "audit");
  assert.deepEqual(d.ruling!.correct, [false]);
  assert.equal(await dealState(net.deployer, { dealId: id }), "slashed");
  await net.assertEscrowMoved(before, { provider: -COLLATERAL, jobCreator: COLLATERAL - FEE, mediator: FEE });
});

test("two replicas that disagree go to the mediator, who pays the right one and slashes the other", async () => {
  const [honest, cheat] = net.providers as [(typeof net.providers)[0], (typeof net.providers)[0]];
  const before = await net.ledger();
  const job = await net.postJobOffer(Policy.replicate, 2n, "two of us");
  const group = [addr(honest), addr(cheat)];
  // The resource offers are never posted: the mediator list comes from the job offer.
  const deals = [
    await net.deriveDeal(job, await net.resourceOffer(honest, false), { group }),
    await net.deriveDeal(job, await net.resourceOffer(cheat, false), { group }),
  ];
  await openReplicas(net.jobCreator, { replicas: [await net.signedDeal(deals[0]!), await net.signedDeal(deals[1]!)] });
  for (const [i, provider] of [honest, cheat].entries()) {
    const deal = deals[i]!;
    const id = dealId(net.addresses, deal);
    const result = i === 0 ? await net.honestResult(id, job.offer.inputs) : await net.wrongResult(id, job.offer.inputs);
    await commitResult(provider, { deal, resultDigest: cidDigest(result) });
  }
  const tally = await settleReplicas(net.jobCreator, { deals });
  assert.equal(tally.majority, false);
  await net.mine(2);

  const d = await settledIn(mediator, job.id, ["ruled", "failed"]);
  assert.equal(d.status, "ruled", d.error);
  assert.equal(d.kind, "replicas");
  const ids = deals.map((x) => dealId(net.addresses, x));
  // The ruling is in the group's order, ascending by provider.
  const honestFirst = BigInt(addr(honest)) < BigInt(addr(cheat));
  assert.deepEqual(d.ruling!.correct, honestFirst ? [true, false] : [false, true]);
  assert.equal(await dealState(net.deployer, { dealId: ids[0]! }), "settled");
  assert.equal(await dealState(net.deployer, { dealId: ids[1]! }), "slashed");
  // One fee per group, out of the wrong replica's collateral; the job creator pays the right one's
  // price and gets back the wrong one's price, both reserves, and its collateral less the fee.
  await net.assertEscrowMoved(before, { provider: PRICE, provider2: -COLLATERAL, jobCreator: -PRICE + COLLATERAL - FEE, mediator: FEE });
});

test("of two mediators both parties accept, only the drawn one rules; the other waits for its turn", async () => {
  const second = await net.newMediator("second mediator");
  const other = await net.startMediator(second, "second");
  try {
    const both = commonMediators([addr(net.mediator), addr(second)], [addr(net.mediator), addr(second)]);
    const provider = net.providers[0]!;
    await net.resourceOffer(provider, true, both);
    const job = await net.postJobOffer(Policy.optimistic, 60n, "two mediators", { mediators: both });
    const record = await net.solver.getJobOffer({ params: { id: job.id } });
    assert.equal(record.status, "matched", JSON.stringify(record.rejections));
    const { deal } = await net.solver.getDeal({ params: { id: record.dealIds[0]! } });
    await openDeal(provider, await net.signedDeal(deal));
    const id = dealId(net.addresses, deal);
    await commitResult(provider, { deal, resultDigest: cidDigest(await net.wrongResult(id, job.offer.inputs)) });
    await challenge(net.jobCreator, { deal });
    await net.mine(2);

    const drawn = await mediatorOf(net.deployer, { deal, mediators: both });
    const [winner, loser] = isAddressEqual(drawn, addr(net.mediator)) ? [mediator, other] : [other, mediator];
    const ruled = await settledIn(winner, id, ["ruled", "failed"]);
    assert.equal(ruled.status, "ruled", ruled.error);
    // The other one found either that someone else has the turn (and when to look again), or, if
    // it looked after the ruling, that the dispute is over. Either way it never re-ran or ruled.
    // A look taken between the challenge and the two blocks mined after it finds the draw's block
    // not mined yet; that record stands until the next block is seen, which can come after the
    // winner's ruling, so the wait is for a look taken once the draw could be read.
    const seen = await eventually("the other mediator looks at the drawn dispute", () => {
      const d = disputeOf(loser, id);
      assert.equal(d?.ruling, undefined, "it never re-ran the job");
      return d?.error && !/not mined yet/.test(d.error) ? d : undefined;
    });
    if (seen.status === "seen") {
      assert.match(seen.error!, /has the turn/);
      assert.ok(seen.recheckAt !== undefined || seen.recheckBlock !== undefined, "it looks again only when the turn can change");
    } else {
      assert.equal(seen.status, "not-mine");
      assert.match(seen.error!, /resolved without us/);
    }
    assert.equal(seen.ruling, undefined, "it never re-ran the job");
    assert.equal(seen.rulingTx, undefined);
  } finally {
    await other.close();
  }
});
