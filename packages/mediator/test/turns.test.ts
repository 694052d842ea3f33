// A drawn mediator keeps its turn for its time, not for a number of blocks; an absent one costs
// a dispute one turn. Real chain, store, solver and sandbox; the only handle the test keeps is a
// gate on the sandbox, so the chain can move while the drawn mediator re-runs the job.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { encodeAbiParameters, isAddressEqual, keccak256, type Address, type Hex } from "viem";
import { challenge, commitResult, dealId, dealRecord, dealState, getDealEvents, mediatorOf, openDeal } from "@lily/chain";
import { Policy, cidDigest, sortedAddresses, type DealMessage } from "@lily/protocol";
import { COLLATERAL, FEE, MEDIATOR_TURN, addr, startNetwork, type Network } from "./network.ts";
import { gatedExecutor } from "./parts.ts";
import { disputeOf, eventually, settledIn } from "./waitFor.ts";

let net: Network;
before(async () => {
  net = await startNetwork();
});
after(() => net?.stop());

/** An optimistic deal with a wrong result, challenged, whose mediators are `set`; the draw's block is mined. */
async function challengedDeal(set: Address[], message: string): Promise<{ deal: DealMessage; id: Hex }> {
  const provider = net.providers[0]!;
  const job = await net.postJobOffer(Policy.optimistic, 600n, message, { mediators: set });
  const deal = await net.deriveDeal(job, await net.resourceOffer(provider, false, set));
  await openDeal(provider, await net.signedDeal(deal));
  const id = dealId(net.addresses, deal);
  await commitResult(provider, { deal, resultDigest: cidDigest(await net.wrongResult(id, job.offer.inputs)) });
  await challenge(net.jobCreator, { deal, reason: "wrong cow" });
  await net.mine(2);
  return { deal, id };
}

/**
 * The draw the contract would make in block `blockNumber` from block hashes alone (no lock):
 * the seed block is the first block of the current 256-block epoch counted from drawBlock + 1.
 */
async function unlockedDraw(id: Hex, drawBlock: bigint, blockNumber: bigint, eligible: Address[]): Promise<Address> {
  const first = drawBlock + 1n;
  const seedBlock = first + ((blockNumber - first - 1n) / 256n) * 256n;
  const { hash } = await net.deployer.publicClient.getBlock({ blockNumber: seedBlock });
  const word = keccak256(encodeAbiParameters([{ type: "bytes32" }, { type: "bytes32" }, { type: "string" }], [hash!, id, "mediator"]));
  const seed = BigInt(word) & ((1n << 56n) - 1n) || 1n;
  return eligible[Number(seed % BigInt(eligible.length))]!;
}

test("a drawn mediator locks the draw first, and still rules after 300 blocks are mined in a few seconds", async () => {
  const [a, b] = [await net.newMediator("turn mediator a"), await net.newMediator("turn mediator b")];
  const set = sortedAddresses([addr(a), addr(b)]);
  const sandbox = gatedExecutor();
  const units = [await net.startMediator(a, "turn-a", { executor: sandbox }), await net.startMediator(b, "turn-b", { executor: sandbox })];
  const before = await net.ledger();
  const { deal, id } = await challengedDeal(set, "hold the sandbox");
  const drawnAddress = await mediatorOf(net.deployer, { deal, mediators: set });
  const [drawn, other] = isAddressEqual(drawnAddress, addr(a)) ? [a, b] : [b, a];
  const [drawnUnit] = isAddressEqual(drawnAddress, addr(a)) ? units : [units[1]!];

  // The drawn mediator's first transaction fixes the draw, then it re-runs (held at the gate).
  await sandbox.waiting;
  const { seed, drawBlock } = await dealRecord(net.deployer, { dealId: id });
  assert.notEqual(seed, 0n, "the draw is locked before the re-run starts");
  assert.equal(await net.nonceOf(drawn), 1);

  // A fast chain: whole 256-block epochs in a few seconds, until the block hashes alone would
  // hand the dispute to the other mediator.
  let moved = false;
  for (let epoch = 0; epoch < 16 && !moved; epoch++) {
    await net.mine(256);
    const next = (await net.deployer.publicClient.getBlockNumber({ cacheTime: 0 })) + 1n;
    moved = !isAddressEqual(await unlockedDraw(id, drawBlock, next, set), addr(drawn));
  }
  assert.ok(moved, "the unlocked draw never moved to the other mediator");
  sandbox.open();

  const d = await settledIn(drawnUnit!, id, ["ruled", "failed"]);
  assert.equal(d.status, "ruled", d.error);
  assert.equal(await dealState(net.deployer, { dealId: id }), "slashed");
  const ruled = (await getDealEvents(net.deployer, { dealId: id })).filter((e) => e.name === "Ruled");
  assert.deepEqual(
    ruled.map((e) => (e.args as { mediator: Address }).mediator),
    [addr(drawn)],
  );
  assert.equal(await net.nonceOf(drawn), 2, "two transactions: the lock and the ruling");
  assert.equal(await net.nonceOf(other), 0, "the other mediator sent nothing");
  await net.assertEscrowMoved(before, { [`turn mediator ${drawn === a ? "a" : "b"}`]: FEE, provider: -COLLATERAL, jobCreator: COLLATERAL - FEE });
});

test("when the drawn mediator is absent, the next one rules once the turn passes to it", async () => {
  const [a, b] = [await net.newMediator("absent mediator a"), await net.newMediator("absent mediator b")];
  const set = sortedAddresses([addr(a), addr(b)]);
  const before = await net.ledger();
  const { deal, id } = await challengedDeal(set, "nobody home");
  const drawnAddress = await mediatorOf(net.deployer, { deal, mediators: set });
  // Only the mediator not drawn runs: the drawn one is absent.
  const [absent, present, presentName] = isAddressEqual(drawnAddress, addr(a)) ? [a, b, "absent mediator b"] : [b, a, "absent mediator a"];
  const unit = await net.startMediator(present, presentName.replaceAll(" ", "-"));

  const waiting = await eventually("the present mediator waits for its turn", () => {
    const d = disputeOf(unit, id);
    return d?.error?.includes("has the turn") ? d : undefined;
  });
  assert.equal(waiting.status, "seen");
  const { challengedAt } = await dealRecord(net.deployer, { dealId: id });
  assert.equal(waiting.recheckAt, Number(challengedAt) + MEDIATOR_TURN, "it looks again when the turn passes");
  assert.equal(await net.nonceOf(present), 0);

  // The absent mediator's turn runs out: the present one locks the draw, re-runs and rules.
  await net.increaseTime(MEDIATOR_TURN);
  const d = await settledIn(unit, id, ["ruled", "failed"]);
  assert.equal(d.status, "ruled", d.error);
  assert.equal(await dealState(net.deployer, { dealId: id }), "slashed");
  assert.equal(await net.nonceOf(present), 2, "the lock and the ruling");
  assert.equal(await net.nonceOf(absent), 0);
  await net.assertEscrowMoved(before, { [presentName]: FEE, provider: -COLLATERAL, jobCreator: COLLATERAL - FEE });
});
