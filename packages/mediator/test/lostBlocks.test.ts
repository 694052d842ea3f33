// A chain node that loses its last blocks (anvil restarted from its state file; a reorg on a real
// chain) must not cost an honest mediator its fee, nor the honest side of a dispute its due. The
// loss is made the way the provider's test makes it: evm_snapshot before the transaction,
// evm_revert once the mediator has recorded what it saw. Real chain, store, solver and sandbox.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import type { Address, Hex } from "viem";
import { challenge, commitResult, dealId, dealState, openDeal } from "@lily/chain";
import { Policy, cidDigest, type DealMessage } from "@lily/protocol";
import { COLLATERAL, FEE, addr, startNetwork, type Network } from "./network.ts";
import { gatedExecutor } from "./parts.ts";
import { disputeOf, eventually, settledIn } from "./waitFor.ts";

let net: Network;
before(async () => {
  net = await startNetwork();
});
after(() => net?.stop());

const rpc = (method: string, params: unknown[] = []) => net.deployer.publicClient.request({ method, params } as never) as Promise<unknown>;
const stateOf = (id: Hex) => dealState(net.deployer, { dealId: id });

/** An optimistic deal with a wrong result committed, whose only mediator is `mediator`. */
async function wrongResult(mediator: Address, message: string): Promise<{ deal: DealMessage; id: Hex }> {
  const provider = net.providers[0]!;
  const job = await net.postJobOffer(Policy.optimistic, 600n, message, { mediators: [mediator] });
  const deal = await net.deriveDeal(job, await net.resourceOffer(provider, false, [mediator]));
  await openDeal(provider, await net.signedDeal(deal));
  const id = dealId(net.addresses, deal);
  await commitResult(provider, { deal, resultDigest: cidDigest(await net.wrongResult(id, job.offer.inputs)) });
  return { deal, id };
}

test("a ruling the chain node lost after the mediator recorded it is sent again before the mediation timeout: the wrong provider is slashed and the mediator paid, once", async () => {
  const me = await net.newMediator("lost ruling");
  const sandbox = gatedExecutor();
  const unit = await net.startMediator(me, "lost-ruling", { executor: sandbox });
  const before = await net.ledger();
  const { deal, id } = await wrongResult(addr(me), "ruled twice");
  await challenge(net.jobCreator, { deal, reason: "wrong cow" });
  await net.mine(2);

  // The draw is locked and the re-run waits at the gate: the ruling is sent after the snapshot.
  await sandbox.waiting;
  const snapshot = await rpc("evm_snapshot");
  sandbox.open();
  const first = await settledIn(unit, id, ["ruled", "failed"]);
  assert.equal(first.status, "ruled", first.error);
  assert.equal(await stateOf(id), "slashed");
  // What anvil does across a stop that loses its last blocks: the confirmed ruling is gone.
  assert.equal(await rpc("evm_revert", [snapshot]), true);
  assert.equal(await stateOf(id), "challenged");

  await eventually("the ruling sent again", async () => ((await stateOf(id)) === "slashed" ? true : undefined), 30_000);
  const d = await settledIn(unit, id, ["ruled", "failed"]);
  assert.equal(d.status, "ruled", d.error);
  assert.deepEqual(d.ruling!.correct, [false]);
  await net.assertEscrowMoved(before, { "lost ruling": FEE, provider: -COLLATERAL, jobCreator: COLLATERAL - FEE });
});

test("a dispute raised in blocks the chain node mined again after losing its last ones is still found and ruled", async () => {
  const me = await net.newMediator("rescan");
  const unit = await net.startMediator(me, "rescan");
  const lost = await wrongResult(addr(me), "challenged in a lost block");
  // The ledger leaves out the deal whose challenge is lost: it stays committed, its escrow locked.
  const before = await net.ledger();
  const kept = await wrongResult(addr(me), "challenged after the loss");

  // The mediator scans past a challenge the node then loses...
  const snapshot = await rpc("evm_snapshot");
  await challenge(net.jobCreator, { deal: lost.deal });
  const lostAt = (await net.deployer.publicClient.getBlockNumber({ cacheTime: 0 })) as bigint;
  await eventually("the mediator sees the first challenge", () => disputeOf(unit, lost.id));
  assert.equal(await rpc("evm_revert", [snapshot]), true);
  assert.equal(await stateOf(lost.id), "committed");

  // ...and a new challenge lands at a height it has already scanned.
  await challenge(net.jobCreator, { deal: kept.deal });
  assert.ok((await net.deployer.publicClient.getBlockNumber({ cacheTime: 0 })) <= lostAt, "the new challenge is at a height scanned before the loss");
  await net.mine(2);
  const d = await settledIn(unit, kept.id, ["ruled", "failed"]);
  assert.equal(d.status, "ruled", d.error);
  assert.equal(await stateOf(kept.id), "slashed");
  await net.assertEscrowMoved(before, { rescan: FEE, provider: -COLLATERAL, jobCreator: COLLATERAL - FEE });
});
