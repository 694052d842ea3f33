import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { keccak256, toHex, type Address, type Hex } from "viem";
import type { DealMessage } from "@lily/protocol";
import {
  claimMediationTimeout,
  claimTimeout,
  commitResult,
  dealId,
  dealRecord,
  dealState,
  finalize,
  mediatorOf,
  groupMediatorOf,
  deposit,
  openDeal,
  openReplicas,
  rule,
  ruleReplicas,
  settleReplicas,
  type LilyClient,
} from "../src/index.ts";
import { DEPOSITED, FUNDED, expectedMediator, rejectsWith, startFixture, type DealTerms, type Fixture } from "./fixture.ts";

const MEDIATION_TIMEOUT = 1200;
let f: Fixture;
before(async () => {
  f = await startFixture({ mediationTimeoutSeconds: MEDIATION_TIMEOUT });
  // Every group locks k prices and reserves; give the job creator room for all of this file's.
  await deposit(f.jobCreator, { amount: FUNDED - DEPOSITED });
});
after(() => f.stop());

const digest = (s: string) => keccak256(toHex(s));
const A = digest("result A");
const B = digest("result B");
const C = digest("result C");
const _groups = 0;

/**
 * A replica group of k = results.length for one job offer, one deal per provider (the fixture's
 * first k), opened whole and each committing its result (null: the provider stays silent).
 */
async function group(results: (Hex | null)[], terms: DealTerms = {}) {
  const members = f.providers.slice(0, results.length);
  const signed = await f.newGroup(members, terms);
  await f.openGroup(signed);
  for (const [i, result] of results.entries()) {
    if (result) await commitResult(members[i]!, { deal: signed.deals[i]!, resultDigest: result });
  }
  const deals = signed.deals;
  return { jobOffer: deals[0]!.jobOffer, deals, signed, ids: deals.map((d) => dealId(f.addresses, d)) };
}

const states = (ids: Hex[]) => Promise.all(ids.map((dealId) => dealState(f.deployer, { dealId })));
const addr = (c: LilyClient): Address => c.account!.address;
const blockHash = async (n: bigint) => (await f.deployer.publicClient.getBlock({ blockNumber: n })).hash!;

describe("a replicate(k) group with a majority", () => {
  test("all three agree: every provider is paid less royalty, every reserve returned", async () => {
    const { deals, ids } = await group([A, A, A]);
    const { price, collateral, mediationFee } = deals[0];
    const royalty = price / 10n;
    const b0 = await f.balances();
    const settled = await settleReplicas(f.stranger, { deals });
    assert.deepEqual([settled.majority, settled.digest, settled.votes], [true, A, 3n]);
    assert.deepEqual(
      settled.outcomes.map((o) => o.outcome),
      ["settled", "settled", "settled"],
    );
    assert.deepEqual(await states(ids), ["settled", "settled", "settled"]);
    await f.assertMoved(b0, {
      [addr(f.providers[0])]: price - royalty + collateral,
      [addr(f.providers[1])]: price - royalty + collateral,
      [addr(f.providers[2])]: price - royalty + collateral,
      [addr(f.moduleCreator)]: 3n * royalty,
      [addr(f.jobCreator)]: 3n * mediationFee,
      totalLocked: -3n * (price + mediationFee + collateral),
    });
    // REJECT: a group settles once.
    await rejectsWith(settleReplicas(f.stranger, { deals }), "CHAIN_REVERT", "DealsReplicaNotReady");
  });

  test("two against one: the majority is paid, the minority slashed to the job creator", async () => {
    const { deals, ids } = await group([A, B, A]);
    const { price, collateral, mediationFee } = deals[0];
    const royalty = price / 10n;
    const b0 = await f.balances();
    // Listed in any order.
    const settled = await settleReplicas(f.stranger, { deals: [deals[1], deals[2], deals[0]] });
    assert.deepEqual([settled.majority, settled.digest, settled.votes], [true, A, 2n]);
    assert.deepEqual(await states(ids), ["settled", "slashed", "settled"]);
    await f.assertMoved(b0, {
      [addr(f.providers[0])]: price - royalty + collateral,
      [addr(f.providers[2])]: price - royalty + collateral,
      [addr(f.moduleCreator)]: 2n * royalty,
      // Reserves back on all three, and the minority's price and collateral.
      [addr(f.jobCreator)]: 3n * mediationFee + price + collateral,
      totalLocked: -3n * (price + mediationFee + collateral),
    });
  });

  test("a silent replica times out first, then counts toward k but votes for nothing", async () => {
    const { deals, ids } = await group([A, A, null], { deadlineIn: 120 });
    const before = await f.snapshot();
    // REJECT: the tally waits for every replica to commit or time out.
    await rejectsWith(settleReplicas(f.stranger, { deals }), "CHAIN_REVERT", "DealsReplicaNotReady");
    assert.deepEqual(await f.snapshot(), before);
    await f.increaseTime(121);
    await claimTimeout(f.stranger, { deal: deals[2] });
    const settled = await settleReplicas(f.stranger, { deals });
    assert.deepEqual([settled.majority, settled.votes], [true, 2n]);
    assert.deepEqual(await states(ids), ["settled", "settled", "timedOut"]);
  });
});

describe("a replicate(k) group without a majority", () => {
  test("goes to one mediator drawn for the group, who pays the right and slashes the wrong; the first wrong pays the fee", async () => {
    const { jobOffer, deals, ids } = await group([A, B, C]);
    const { price, collateral, mediationFee } = deals[0];
    const royalty = price / 10n;
    const split = await settleReplicas(f.stranger, { deals });
    assert.deepEqual([split.majority, split.votes], [false, 0n]);
    assert.deepEqual(await states(ids), ["challenged", "challenged", "challenged"]);
    for (const dealId of ids) assert.equal((await dealRecord(f.deployer, { dealId })).drawBlock, split.blockNumber);

    const mediator = await f.drawnMediator(deals);
    const parties = [addr(f.jobCreator), ...deals.map((d) => d.provider)];
    const expected = expectedMediator(await blockHash(split.blockNumber + 1n), jobOffer, f.mediatorSet, parties);
    assert.equal(addr(mediator), expected);
    assert.equal(await groupMediatorOf(f.deployer, { deals: [deals[2]!, deals[0]!, deals[1]!], mediators: f.mediatorSet }), expected);
    // REJECT: a replica's mediator is its group's, never drawn for one replica alone.
    await rejectsWith(mediatorOf(f.deployer, { deal: deals[0]!, mediators: f.mediatorSet }), "CHAIN_REVERT", "DealsWrongPolicy");

    // REJECT: an accepted mediator that was not drawn; a single-deal ruling on a replica.
    const other = f.mediators.find((m) => m !== mediator)!;
    const before = await f.snapshot();
    await rejectsWith(
      ruleReplicas(other, { deals, mediators: f.mediatorSet, correct: [true, false, false], comparator: "exact" }),
      "CHAIN_REVERT",
      "DealsNotDrawnMediator",
    );
    await rejectsWith(
      rule(mediator, { deal: deals[0], mediators: f.mediatorSet, providerCorrect: true, comparator: "exact" }),
      "CHAIN_REVERT",
      "DealsWrongPolicy",
    );
    await rejectsWith(
      ruleReplicas(mediator, { deals, mediators: f.mediatorSet, correct: [true, false], comparator: "exact" }),
      "INVALID_INPUT",
      "DealsRulingCountMismatch",
    );
    await rejectsWith(
      ruleReplicas(mediator, { deals, mediators: [...f.mediatorSet].reverse(), correct: [true, false, false], comparator: "exact" }),
      "INVALID_INPUT",
      "DealsMediatorSetMismatch",
    );
    assert.deepEqual(await f.snapshot(), before);

    const b0 = await f.balances();
    await ruleReplicas(mediator, { deals, mediators: f.mediatorSet, correct: [true, false, false], comparator: "tolerance" });
    assert.deepEqual(await states(ids), ["settled", "slashed", "slashed"]);
    await f.assertMoved(b0, {
      [addr(f.providers[0])]: price - royalty + collateral,
      [addr(f.moduleCreator)]: royalty,
      [addr(mediator)]: mediationFee,
      // deal 0: reserve back; deal 1: price, reserve, collateral less the fee; deal 2: price, reserve, collateral.
      [addr(f.jobCreator)]: mediationFee + (price + mediationFee + collateral - mediationFee) + (price + mediationFee + collateral),
      totalLocked: -3n * (price + mediationFee + collateral),
    });
  });

  test("when the mediator finds every replica right, the job creator's reserve on one replica pays the fee", async () => {
    const { deals, ids } = await group([A, B]); // k = 2: one each is no majority
    const { price, collateral, mediationFee } = deals[0];
    const royalty = price / 10n;
    await settleReplicas(f.stranger, { deals });
    const mediator = await f.drawnMediator(deals);
    const b0 = await f.balances();
    await ruleReplicas(mediator, { deals, mediators: f.mediatorSet, correct: [true, true], comparator: "similarity" });
    assert.deepEqual(await states(ids), ["settled", "settled"]);
    await f.assertMoved(b0, {
      [addr(f.providers[0])]: price - royalty + collateral,
      [addr(f.providers[1])]: price - royalty + collateral,
      [addr(f.moduleCreator)]: 2n * royalty,
      [addr(mediator)]: mediationFee,
      [addr(f.jobCreator)]: mediationFee,
      totalLocked: -2n * (price + mediationFee + collateral),
    });
  });

  test("when nobody rules in time, every replica unwinds: price and reserve to the job creator, collateral to each provider", async () => {
    const { deals, ids } = await group([A, B, null], { deadlineIn: 300 });
    const { price, collateral, mediationFee } = deals[0];
    await f.increaseTime(301);
    await claimTimeout(f.stranger, { deal: deals[2] });
    await settleReplicas(f.stranger, { deals });
    assert.deepEqual(await states(ids), ["challenged", "challenged", "timedOut"]);
    await rejectsWith(claimMediationTimeout(f.stranger, { deal: deals[0] }), "CHAIN_REVERT", "DealsMediationNotTimedOut");
    await f.increaseTime(MEDIATION_TIMEOUT);
    const mediator = await f.drawnMediator(deals);
    await rejectsWith(
      ruleReplicas(mediator, { deals, mediators: f.mediatorSet, correct: [true, false, false], comparator: "exact" }),
      "CHAIN_REVERT",
      "DealsMediationTimedOut",
    );

    const b0 = await f.balances();
    for (const deal of deals.slice(0, 2)) await claimMediationTimeout(f.stranger, { deal });
    assert.deepEqual(await states(ids), ["timedOut", "timedOut", "timedOut"]);
    await f.assertMoved(b0, {
      [addr(f.jobCreator)]: 2n * (price + mediationFee),
      [addr(f.providers[0])]: collateral,
      [addr(f.providers[1])]: collateral,
      totalLocked: -2n * (price + mediationFee + collateral),
    });
  });
});

describe("a replica group opens whole or not at all", () => {
  test("one replica cannot open alone, nor a group with a member missing or unsigned; nothing is locked", async () => {
    const g = await f.newGroup(f.providers.slice(0, 3));
    const before = await f.snapshot();
    // REJECT: a replica opens only with its whole group (else it could be left untallied, its work unpaid).
    await rejectsWith(openDeal(f.stranger, g.replicas[0]!), "CHAIN_REVERT", "DealsWrongPolicy");
    await rejectsWith(openReplicas(f.stranger, { replicas: g.replicas.slice(0, 2) }), "INVALID_INPUT", "DealsReplicaCountMismatch");
    const unsigned = { ...g.replicas[2]!, jobCreatorSig: g.replicas[2]!.providerSig };
    await rejectsWith(openReplicas(f.stranger, { replicas: [g.replicas[0]!, g.replicas[1]!, unsigned] }), "CHAIN_REVERT", "DealsInvalidSignature");
    assert.deepEqual(await f.snapshot(), before);
    assert.deepEqual(await states(g.deals.map((d) => dealId(f.addresses, d))), ["none", "none", "none"]);
    // The whole group, signed by all, opens in one transaction.
    await f.openGroup(g);
    assert.deepEqual(await states(g.deals.map((d) => dealId(f.addresses, d))), ["open", "open", "open"]);
  });

  test("a group cannot be opened with a provider it was not signed for", async () => {
    const g = await f.newGroup(f.providers.slice(0, 3));
    // A deal for the stranger naming the same group: the providers no longer hash to it.
    const fake = await f.newDeal({ ...g.deals[2]!, provider: addr(f.stranger) });
    const before = await f.snapshot();
    await rejectsWith(openReplicas(f.stranger, { replicas: [g.replicas[0]!, g.replicas[1]!, fake] }), "CHAIN_REVERT", "DealsReplicaGroupMismatch");
    assert.deepEqual(await f.snapshot(), before);
  });

  test("a committed replica is never unwound by the mediation timeout: only its group's tally settles it", async () => {
    const { deals } = await group([A, A, A], { deadlineIn: 100 });
    await f.increaseTime(100 + MEDIATION_TIMEOUT + 1);
    await rejectsWith(claimMediationTimeout(f.stranger, { deal: deals[0]! }), "CHAIN_REVERT", "DealsNotChallenged");
    const settled = await settleReplicas(f.stranger, { deals });
    assert.equal(settled.majority, true);
  });
});

describe("settleReplicas rejects, and changes nothing, when", () => {
  const cases: { when: string; code: "INVALID_INPUT" | "CHAIN_REVERT"; error: string; make: () => Promise<DealMessage[]> }[] = [
    {
      when: "fewer deals than k are given",
      code: "INVALID_INPUT",
      error: "DealsReplicaCountMismatch",
      make: async () => (await group([A, A, A])).deals.slice(0, 2),
    },
    {
      when: "a deal of another job offer is slipped in",
      code: "INVALID_INPUT",
      error: "DealsNotSameReplicaGroup",
      make: async () => {
        const [x, y] = [await group([A, A, B]), await group([B, B, B])];
        return [x.deals[0], x.deals[1], y.deals[2]];
      },
    },
    {
      when: "one provider appears twice (it would outvote the others)",
      code: "INVALID_INPUT",
      error: "DealsReplicasNotSorted",
      make: async () => {
        const { deals } = await group([A, B, B]);
        const twin = await f.newDeal({ ...deals[1]!, deadline: deals[1]!.deadline + 1n });
        return [deals[0]!, deals[1]!, twin.deal];
      },
    },
    {
      when: "a replica is swapped for a deal with a provider the group was not signed for",
      code: "CHAIN_REVERT",
      error: "DealsReplicaGroupMismatch",
      make: async () => {
        const { deals } = await group([A, B, B]);
        const fake = await f.newDeal({ ...deals[2]!, provider: addr(f.stranger) });
        return [deals[0]!, deals[1]!, fake.deal];
      },
    },
    {
      when: "the deals are not replicate deals",
      code: "INVALID_INPUT",
      error: "DealsNotReplicated",
      make: async () => {
        const signed = await f.newDeal(f.policyTerms("optimistic", 60n));
        await f.open(signed);
        return [signed.deal];
      },
    },
    {
      when: "every replica timed out",
      code: "CHAIN_REVERT",
      error: "DealsNoCommittedReplica",
      make: async () => {
        const { deals } = await group([null, null], { deadlineIn: 50 });
        await f.increaseTime(51);
        for (const deal of deals) await claimTimeout(f.stranger, { deal });
        return deals;
      },
    },
  ];
  for (const { when, code, error, make } of cases) {
    test(when, async () => {
      const deals = await make();
      const before = await f.snapshot();
      await rejectsWith(settleReplicas(f.stranger, { deals }), code, error);
      assert.deepEqual(await f.snapshot(), before);
    });
  }

  test("(and finalize does not apply to replicas)", async () => {
    const { deals } = await group([A, A]);
    await rejectsWith(finalize(f.stranger, { deal: deals[0] }), "CHAIN_REVERT", "DealsWrongPolicy");
    await settleReplicas(f.stranger, { deals });
  });
});
