import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { keccak256, parseEther, stringToHex, toHex } from "viem";
import { challenge, claimTimeout, commitResult, dealId, dealRecord, dealState, finalize, getDealEvents, rule } from "../src/index.ts";
import { rejectsWith, startFixture, type Fixture } from "./fixture.ts";

let f: Fixture;
before(async () => (f = await startFixture()));
after(() => f.stop());

const WINDOW = 600n;
const right = keccak256(toHex("the right result"));
const wrong = keccak256(toHex("a made-up result"));

/** An optimistic deal, opened, with its result committed. */
async function committedDeal(resultDigest = right) {
  const signed = await f.newDeal(f.policyTerms("optimistic", WINDOW));
  const id = await f.open(signed);
  const committed = await commitResult(f.provider, { deal: signed.deal, resultDigest });
  return { ...signed, id, committed };
}

describe("an optimistic deal nobody challenges", () => {
  test("locks price and reserve, then after the window pays the provider less royalty and returns the rest", async () => {
    const signed = await f.newDeal(f.policyTerms("optimistic", WINDOW));
    const { price, collateral, mediationFee } = signed.deal;
    const royalty = price / 10n; // 1000 bps
    const jc = f.jobCreator.account!.address;
    const rp = f.provider.account!.address;
    const creator = f.moduleCreator.account!.address;

    const b0 = await f.balances();
    const id = await f.open(signed);
    await f.assertMoved(b0, { [jc]: -(price + mediationFee), [rp]: -collateral, totalLocked: price + mediationFee + collateral });

    const committed = await commitResult(f.provider, { deal: signed.deal, resultDigest: right });
    const record = await dealRecord(f.deployer, { dealId: id });
    const block = await f.deployer.publicClient.getBlock({ blockNumber: committed.blockNumber });
    assert.deepEqual(record, {
      state: "committed",
      resultDigest: right,
      committedAt: block.timestamp,
      commitBlock: committed.blockNumber,
      drawBlock: 0n,
      challengedAt: 0n,
      seed: 0n,
    });

    // REJECT: while the window is open the result is not final, whoever asks.
    const before = await f.snapshot(signed.deal);
    await rejectsWith(finalize(f.stranger, { deal: signed.deal }), "CHAIN_REVERT", "DealsChallengeWindowOpen");
    assert.deepEqual(await f.snapshot(signed.deal), before);

    await f.increaseTime(Number(WINDOW));
    const b1 = await f.balances();
    const finalized = await finalize(f.stranger, { deal: signed.deal });
    assert.equal(finalized.outcome, "settled");
    assert.equal(await dealState(f.deployer, { dealId: id }), "settled");
    await f.assertMoved(b1, {
      [rp]: price - royalty + collateral,
      [creator]: royalty,
      [jc]: mediationFee,
      totalLocked: -(price + mediationFee + collateral),
    });

    const events = await getDealEvents(f.deployer, { dealId: id });
    assert.deepEqual(
      events.map((e) => e.name),
      ["DealOpened", "ResultCommitted", "RoyaltyPaid", "DealSettled"],
    );
    const settled = events[3];
    assert.ok(settled.name === "DealSettled");
    assert.deepEqual([settled.args.paid, settled.args.collateralReturned], [price - royalty, collateral]);

    // REJECT: a settled deal cannot be challenged or finalized again.
    await rejectsWith(challenge(f.jobCreator, { deal: signed.deal }), "CHAIN_REVERT", "DealsNotCommitted");
    await rejectsWith(finalize(f.stranger, { deal: signed.deal }), "CHAIN_REVERT", "DealsNotCommitted");
  });
});

describe("an optimistic deal the job creator challenges", () => {
  test("with a wrong result: the provider is slashed, the mediator paid out of its collateral, the job creator made whole", async () => {
    const { deal, id } = await committedDeal(wrong);
    const { price, collateral, mediationFee } = deal;
    const challenged = await challenge(f.jobCreator, { deal, reason: "output differs" });
    assert.equal(challenged.reason, stringToHex("output differs", { size: 32 }));
    const record = await dealRecord(f.deployer, { dealId: id });
    assert.equal(record.state, "challenged");
    assert.equal(record.drawBlock, challenged.blockNumber);

    const mediator = await f.drawnMediator(deal);
    const b0 = await f.balances();
    const ruled = await rule(mediator, { deal, mediators: f.mediatorSet, providerCorrect: false, comparator: "exact" });
    assert.equal(ruled.outcome, "slashed");
    assert.equal(await dealState(f.deployer, { dealId: id }), "slashed");
    await f.assertMoved(b0, {
      [f.jobCreator.account!.address]: price + mediationFee + collateral - mediationFee,
      [mediator.account!.address]: mediationFee,
      totalLocked: -(price + mediationFee + collateral),
    });

    const events = await getDealEvents(f.deployer, { dealId: id });
    assert.deepEqual(
      events.map((e) => e.name),
      ["DealOpened", "ResultCommitted", "MediationRequested", "DealChallenged", "MediationFeePaid", "DealSlashed", "Ruled"],
    );
    const byName = Object.fromEntries(events.map((e) => [e.name, e.args as Record<string, unknown>]));
    assert.deepEqual(byName.DealChallenged, { dealId: id, challenger: f.jobCreator.account!.address, reason: challenged.reason });
    assert.deepEqual(byName.Ruled, { dealId: id, mediator: mediator.account!.address, providerCorrect: false, comparator: 0 });
    assert.deepEqual(byName.MediationFeePaid, { dealId: id, mediator: mediator.account!.address, payer: deal.provider, fee: mediationFee });
    assert.deepEqual(byName.DealSlashed, { dealId: id, refunded: price + mediationFee, slashed: collateral, mediatorFee: mediationFee });
  });

  test("with a correct result: the provider is paid, and the challenger's reserve pays the mediator", async () => {
    const { deal, id } = await committedDeal(right);
    const { price, collateral, mediationFee } = deal;
    const royalty = price / 10n;
    await challenge(f.jobCreator, { deal });
    const mediator = await f.drawnMediator(deal);
    const b0 = await f.balances();
    await rule(mediator, { deal, mediators: f.mediatorSet, providerCorrect: true, comparator: "tolerance" });
    assert.equal(await dealState(f.deployer, { dealId: id }), "settled");
    await f.assertMoved(b0, {
      [f.provider.account!.address]: price - royalty + collateral,
      [f.moduleCreator.account!.address]: royalty,
      [mediator.account!.address]: mediationFee,
      totalLocked: -(price + mediationFee + collateral),
    });
    const ruled = (await getDealEvents(f.deployer, { dealId: id })).find((e) => e.name === "Ruled");
    assert.ok(ruled?.name === "Ruled");
    assert.equal(ruled.args.comparator, 1);
  });
});

describe("challenge rejects, and changes nothing, when", () => {
  test("the window has closed", async () => {
    const { deal } = await committedDeal();
    await f.increaseTime(Number(WINDOW));
    const before = await f.snapshot(deal);
    const e = await rejectsWith(challenge(f.jobCreator, { deal }), "CHAIN_REVERT", "DealsChallengeWindowClosed");
    assert.match(e.message, /challenge window closed at .*; the result stands/);
    assert.deepEqual(await f.snapshot(deal), before);
    await finalize(f.stranger, { deal });
  });

  test("one second before the window closes it is still accepted", async () => {
    const { deal, committed } = await committedDeal();
    const { timestamp } = await f.deployer.publicClient.getBlock({ blockNumber: committed.blockNumber });
    const now = (await f.deployer.publicClient.getBlock()).timestamp;
    // The challenge lands at committedAt + window - 1.
    await f.deployer.publicClient.request({ method: "evm_setNextBlockTimestamp", params: [toHex(timestamp + WINDOW - 1n)] } as never);
    assert.ok(now < timestamp + WINDOW - 1n);
    await challenge(f.jobCreator, { deal });
    assert.equal(await dealState(f.deployer, { dealId: dealId(f.addresses, deal) }), "challenged");
  });

  test("anyone but the job creator challenges", async () => {
    const { deal } = await committedDeal();
    const before = await f.snapshot(deal);
    for (const caller of [f.provider, f.stranger, f.mediators[0]]) {
      const e = await rejectsWith(challenge(caller, { deal }), "CHAIN_REVERT", "DealsNotJobCreator");
      assert.equal(e.details.args && (e.details.args as Record<string, string>).caller, caller.account!.address);
    }
    assert.deepEqual(await f.snapshot(deal), before);
  });

  test("the result is not committed yet", async () => {
    const signed = await f.newDeal(f.policyTerms("optimistic", WINDOW));
    await f.open(signed);
    const before = await f.snapshot(signed.deal);
    await rejectsWith(challenge(f.jobCreator, { deal: signed.deal }), "CHAIN_REVERT", "DealsNotCommitted");
    assert.deepEqual(await f.snapshot(signed.deal), before);
  });

  test("the policy has no challenge (audit)", async () => {
    // audit(50%) is safe for the default price of 3 LILY with a collateral of 6.
    const signed = await f.newDeal(f.policyTerms("audit", 500_000n, { collateral: parseEther("6") }));
    await f.open(signed);
    await commitResult(f.provider, { deal: signed.deal, resultDigest: right });
    const before = await f.snapshot(signed.deal);
    const e = await rejectsWith(challenge(f.jobCreator, { deal: signed.deal }), "CHAIN_REVERT", "DealsWrongPolicy");
    assert.match(e.message, /is under audit, which has no challenge/);
    assert.deepEqual(await f.snapshot(signed.deal), before);
  });

  test("the reason does not fit in 32 bytes (before anything is sent)", async () => {
    const { deal } = await committedDeal();
    const e = await rejectsWith(challenge(f.jobCreator, { deal, reason: "x".repeat(33) }), "INVALID_INPUT");
    assert.equal(e.field, "reason");
  });
});

describe("an optimistic deal whose provider stays silent", () => {
  test("times out returning the job creator its price and reserve, plus the provider's collateral", async () => {
    const signed = await f.newDeal(f.policyTerms("optimistic", WINDOW, { deadlineIn: 60 }));
    const { price, collateral, mediationFee } = signed.deal;
    const b0 = await f.balances();
    const id = await f.open(signed);
    await f.increaseTime(61);
    await claimTimeout(f.stranger, { deal: signed.deal });
    assert.equal(await dealState(f.deployer, { dealId: id }), "timedOut");
    await f.assertMoved(b0, { [f.jobCreator.account!.address]: collateral, [f.provider.account!.address]: -collateral });
    const timedOut = (await getDealEvents(f.deployer, { dealId: id })).at(-1)!;
    assert.ok(timedOut.name === "DealTimedOut");
    assert.deepEqual([timedOut.args.refunded, timedOut.args.slashed], [price + mediationFee, collateral]);
  });
});
