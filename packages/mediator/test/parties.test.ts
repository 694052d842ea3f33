// Nobody rules on a dispute they are party to, even when both offers list them as a mediator:
// a mediator that is the deal's job creator records the dispute as not its own and sends nothing,
// and an eligible mediator rules instead.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { challenge, commitResult, dealId, dealState, openDeal } from "@lily/chain";
import { Policy, cidDigest, mediatorSetHash, sortedAddresses } from "@lily/protocol";
import { COLLATERAL, FEE, addr, startNetwork, type Network } from "./network.ts";
import { settledIn } from "./waitFor.ts";

let net: Network;
before(async () => {
  net = await startNetwork();
});
after(() => net?.stop());

test("a mediator that is also the job creator, listed in the set, never rules on its own deal", async () => {
  const jc = net.jobCreator;
  const set = sortedAddresses([addr(jc), addr(net.mediator)]);
  const judge = await net.startMediator(net.mediator, "mediator");
  const party = await net.startMediator(jc, "job-creator-as-mediator");

  const provider = net.providers[0]!;
  const before = await net.ledger();
  const job = await net.postJobOffer(Policy.optimistic, 600n, "judge me", { mediators: set });
  // Both parties signed a set that lists the job creator (deriveDeal would have left it out).
  const deal = await net.deriveDeal(job, await net.resourceOffer(provider, false, set), { override: { mediators: mediatorSetHash(set) } });
  await openDeal(provider, await net.signedDeal(deal));
  const id = dealId(net.addresses, deal);
  await commitResult(provider, { deal, resultDigest: cidDigest(await net.wrongResult(id, job.offer.inputs)) });
  await challenge(jc, { deal, reason: "mine to judge" });
  const nonce = await net.nonceOf(jc);
  await net.mine(2);

  const mine = await settledIn(party, id, ["not-mine", "ruled", "failed"]);
  assert.equal(mine.status, "not-mine");
  assert.match(mine.error!, /party to the dispute \(its job creator\)/);
  const ruled = await settledIn(judge, id, ["ruled", "failed"]);
  assert.equal(ruled.status, "ruled", ruled.error);
  assert.equal(await dealState(net.deployer, { dealId: id }), "slashed");
  assert.equal(await net.nonceOf(jc), nonce, "the job creator sent nothing as a mediator");
  await net.assertEscrowMoved(before, { mediator: FEE, provider: -COLLATERAL, jobCreator: COLLATERAL - FEE });
});
