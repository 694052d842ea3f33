import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { keccak256, toHex, type Hex } from "viem";
import { commonMediators, mediatorSetHash } from "@lily/protocol";
import { challenge, claimMediationTimeout, commitResult, dealRecord, dealState, getDealEvents, mediatorOf, rule, type LilyClient } from "../src/index.ts";
import { expectedMediator, rejectsWith, startFixture, type Fixture, type SignedDeal } from "./fixture.ts";

const MEDIATION_TIMEOUT = 900;
let f: Fixture;
before(async () => (f = await startFixture({ mediationTimeoutSeconds: MEDIATION_TIMEOUT })));
after(() => f.stop());

const wrong = keccak256(toHex("a made-up result"));

/** An optimistic deal, committed and challenged. */
async function challengedDeal(): Promise<SignedDeal & { id: Hex; drawBlock: bigint }> {
  const signed = await f.newDeal(f.policyTerms("optimistic", 600n));
  const id = await f.open(signed);
  await commitResult(f.provider, { deal: signed.deal, resultDigest: wrong });
  const { blockNumber } = await challenge(f.jobCreator, { deal: signed.deal });
  return { ...signed, id, drawBlock: blockNumber };
}

const blockHash = async (n: bigint) => (await f.deployer.publicClient.getBlock({ blockNumber: n })).hash!;

describe("the mediator of a challenged deal", () => {
  test("is drawn from the hash of the block after the challenge, once that block is mined", async () => {
    const { deal, id, drawBlock } = await challengedDeal();
    assert.equal(await f.blockNumber(), drawBlock);
    // REJECT: nobody is drawn until block drawBlock + 1 exists and the chain has moved past it.
    const e = await rejectsWith(mediatorOf(f.deployer, { deal, mediators: f.mediatorSet }), "CHAIN_REVERT", "DealsMediatorNotDrawnYet");
    assert.match(e.message, new RegExp(`drawn from block ${drawBlock + 1n}, which is not mined yet`));
    await f.mine(2);
    const drawn = await mediatorOf(f.deployer, { deal, mediators: f.mediatorSet });
    assert.equal(drawn, expectedMediator(await blockHash(drawBlock + 1n), id, f.mediatorSet));
    // The draw does not move while the block hash is available.
    await f.mine(100);
    assert.equal(await mediatorOf(f.deployer, { deal, mediators: f.mediatorSet }), drawn);
  });

  test("after 256 blocks is redrawn once per 256-block epoch, from a block after the previous epoch began", async () => {
    const { deal, id, drawBlock } = await challengedDeal();
    await f.mine(300);
    const now = await f.blockNumber();
    const first = drawBlock + 1n;
    const seed = first + ((now - first - 1n) / 256n) * 256n;
    assert.equal(seed, first + 256n);
    assert.equal(await mediatorOf(f.deployer, { deal, mediators: f.mediatorSet }), expectedMediator(await blockHash(seed), id, f.mediatorSet));
    // The drawn mediator can still rule: nothing freezes when the original hash ages out.
    const mediator = await f.drawnMediator(deal);
    await rule(mediator, { deal, mediators: f.mediatorSet, providerCorrect: false, comparator: "exact" });
    assert.equal(await dealState(f.deployer, { dealId: id }), "slashed");
  });

  test("is only asked of a deal that awaits a mediator", async () => {
    const signed = await f.newDeal(f.policyTerms("optimistic", 600n));
    await f.open(signed);
    await rejectsWith(mediatorOf(f.deployer, { deal: signed.deal, mediators: f.mediatorSet }), "CHAIN_REVERT", "DealsNotChallenged");
  });
});

describe("rule rejects, and changes nothing, when", () => {
  let d: Awaited<ReturnType<typeof challengedDeal>>;
  let drawn: LilyClient;
  before(async () => {
    d = await challengedDeal();
    drawn = await f.drawnMediator(d.deal);
  });

  const cases: { when: string; error: string; caller: () => LilyClient; mediators?: () => Hex[] }[] = [
    { when: "the caller is an accepted mediator the draw did not pick", error: "DealsNotDrawnMediator", caller: () => f.mediators.find((m) => m !== drawn)! },
    { when: "the caller is not among the mediators both parties accepted", error: "DealsNotMediator", caller: () => f.stranger },
    { when: "the caller is the provider (a party)", error: "DealsMediatorIsParty", caller: () => f.provider },
    { when: "the caller is the job creator (a party)", error: "DealsMediatorIsParty", caller: () => f.jobCreator },
    {
      when: "the list names a mediator neither party signed for",
      error: "DealsMediatorSetMismatch",
      caller: () => f.stranger,
      mediators: () => commonMediators([...f.mediatorSet, f.stranger.account!.address], [...f.mediatorSet, f.stranger.account!.address]),
    },
    {
      when: "the list leaves an accepted mediator out",
      error: "DealsMediatorSetMismatch",
      caller: () => drawn,
      mediators: () => [drawn.account!.address],
    },
    {
      when: "the list is the right set in the wrong order",
      error: "DealsMediatorSetMismatch",
      caller: () => drawn,
      mediators: () => [...f.mediatorSet].reverse(),
    },
  ];
  for (const { when, error, caller, mediators } of cases) {
    test(when, async () => {
      const before = await f.snapshot(d.deal);
      const code = error === "DealsMediatorSetMismatch" ? "INVALID_INPUT" : "CHAIN_REVERT";
      const e = await rejectsWith(
        rule(caller(), { deal: d.deal, mediators: mediators?.() ?? f.mediatorSet, providerCorrect: true, comparator: "exact" }),
        code,
        error,
      );
      if (error === "DealsMediatorSetMismatch") {
        assert.equal((e.details.args as Record<string, string>).expected, f.mediatorHash);
        assert.equal((e.details.args as Record<string, string>).given, mediatorSetHash(mediators!() as Hex[]));
      }
      assert.deepEqual(await f.snapshot(d.deal), before);
    });
  }

  test("the deal was already ruled on", async () => {
    await rule(drawn, { deal: d.deal, mediators: f.mediatorSet, providerCorrect: true, comparator: "exact" });
    const before = await f.snapshot(d.deal);
    await rejectsWith(
      rule(drawn, { deal: d.deal, mediators: f.mediatorSet, providerCorrect: false, comparator: "exact" }),
      "CHAIN_REVERT",
      "DealsNotChallenged",
    );
    assert.deepEqual(await f.snapshot(d.deal), before);
  });
});

describe("a mediation nobody rules on", () => {
  test("unwinds after the timeout: the job creator gets price and reserve back, the provider its collateral", async () => {
    const { deal, id } = await challengedDeal();
    const { price, collateral, mediationFee } = deal;
    const drawn = await f.drawnMediator(deal);
    const { challengedAt } = await dealRecord(f.deployer, { dealId: id });
    const now = (await f.deployer.publicClient.getBlock()).timestamp;

    // REJECT: before the timeout the mediator keeps its time.
    const before = await f.snapshot(deal);
    await rejectsWith(claimMediationTimeout(f.stranger, { deal }), "CHAIN_REVERT", "DealsMediationNotTimedOut");
    assert.deepEqual(await f.snapshot(deal), before);

    await f.increaseTime(Number(challengedAt + BigInt(MEDIATION_TIMEOUT) - now));
    // REJECT: from the timeout on, a ruling is too late.
    await rejectsWith(rule(drawn, { deal, mediators: f.mediatorSet, providerCorrect: false, comparator: "exact" }), "CHAIN_REVERT", "DealsMediationTimedOut");
    assert.deepEqual(await f.snapshot(deal), { ...before, dealState: "challenged" });

    const b0 = await f.balances();
    await claimMediationTimeout(f.stranger, { deal });
    assert.equal(await dealState(f.deployer, { dealId: id }), "timedOut");
    await f.assertMoved(b0, {
      [f.jobCreator.account!.address]: price + mediationFee,
      [f.provider.account!.address]: collateral,
      totalLocked: -(price + mediationFee + collateral),
    });
    const last = (await getDealEvents(f.deployer, { dealId: id })).at(-1)!;
    assert.ok(last.name === "MediationTimedOut");
    assert.deepEqual([last.args.refunded, last.args.collateralReturned], [price + mediationFee, collateral]);

    // REJECT: it unwinds once.
    await rejectsWith(claimMediationTimeout(f.stranger, { deal }), "CHAIN_REVERT", "DealsNotChallenged");
  });

  test("cannot be claimed for a deal that is merely committed (outside replicate)", async () => {
    const signed = await f.newDeal(f.policyTerms("optimistic", 600n));
    await f.open(signed);
    await commitResult(f.provider, { deal: signed.deal, resultDigest: wrong });
    await f.increaseTime(MEDIATION_TIMEOUT * 10);
    await rejectsWith(claimMediationTimeout(f.stranger, { deal: signed.deal }), "CHAIN_REVERT", "DealsNotChallenged");
  });
});
