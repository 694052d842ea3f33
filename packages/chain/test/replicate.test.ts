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
  rule,
  ruleReplicas,
  settleReplicas,
  type LilyClient,
} from "../src/index.ts";
import { expectedMediator, rejectsWith, startFixture, type DealTerms, type Fixture } from "./fixture.ts";

const MEDIATION_TIMEOUT = 1200;
let f: Fixture;
before(async () => (f = await startFixture({ mediationTimeoutSeconds: MEDIATION_TIMEOUT })));
after(() => f.stop());

const digest = (s: string) => keccak256(toHex(s));
const A = digest("result A");
const B = digest("result B");
const C = digest("result C");
let groups = 0;

/**
 * A replica group of k = results.length for one job offer, one deal per provider, each opened
 * and committing its result (null: the provider stays silent). Extra deals may be asked for.
 */
async function group(results: (Hex | null)[], terms: DealTerms = {}) {
  const jobOffer = digest(`replicated job ${++groups}`);
  const deals: DealMessage[] = [];
  for (const [i, result] of results.entries()) {
    const provider = f.providers[i];
    const signed = await f.newDeal(f.policyTerms("replicate", BigInt(results.length), { jobOffer, provider: provider.account!.address, ...terms }));
    await f.open(signed);
    if (result) await commitResult(provider, { deal: signed.deal, resultDigest: result });
    deals.push(signed.deal);
  }
  return { jobOffer, deals, ids: deals.map((d) => dealId(f.addresses, d)) };
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
    assert.deepEqual(settled.outcomes.map((o) => o.outcome), ["settled", "settled", "settled"]);
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

    const mediator = await f.drawnMediator(deals[0]);
    const expected = expectedMediator(await blockHash(split.blockNumber + 1n), jobOffer, f.mediatorSet);
    assert.equal(addr(mediator), expected);
    for (const deal of deals) assert.equal(await mediatorOf(f.deployer, { deal, mediators: f.mediatorSet }), expected);

    // REJECT: an accepted mediator that was not drawn; a single-deal ruling on a replica.
    const other = f.mediators.find((m) => m !== mediator)!;
    const before = await f.snapshot();
    await rejectsWith(ruleReplicas(other, { deals, mediators: f.mediatorSet, correct: [true, false, false], comparator: "exact" }), "CHAIN_REVERT", "DealsNotDrawnMediator");
    await rejectsWith(rule(mediator, { deal: deals[0], mediators: f.mediatorSet, providerCorrect: true, comparator: "exact" }), "CHAIN_REVERT", "DealsWrongPolicy");
    await rejectsWith(ruleReplicas(mediator, { deals, mediators: f.mediatorSet, correct: [true, false], comparator: "exact" }), "INVALID_INPUT", "DealsRulingCountMismatch");
    await rejectsWith(ruleReplicas(mediator, { deals, mediators: [...f.mediatorSet].reverse(), correct: [true, false, false], comparator: "exact" }), "INVALID_INPUT", "DealsMediatorSetMismatch");
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
    const mediator = await f.drawnMediator(deals[1]);
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
    const mediator = await f.drawnMediator(deals[0]);
    await rejectsWith(ruleReplicas(mediator, { deals, mediators: f.mediatorSet, correct: [true, false, false], comparator: "exact" }), "CHAIN_REVERT", "DealsMediationTimedOut");

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

describe("a replica whose group never forms", () => {
  test("unwinds MEDIATION_TIMEOUT after its deadline, so nothing stays locked", async () => {
    // k = 3, but only two replicas ever open (the third provider's deal never did).
    const jobOffer = digest(`replicated job ${++groups}`);
    const deals: DealMessage[] = [];
    for (const provider of f.providers.slice(0, 2)) {
      const signed = await f.newDeal(f.policyTerms("replicate", 3n, { jobOffer, provider: addr(provider), deadlineIn: 100 }));
      await f.open(signed);
      await commitResult(provider, { deal: signed.deal, resultDigest: A });
      deals.push(signed.deal);
    }
    const { price, collateral, mediationFee } = deals[0];
    await rejectsWith(settleReplicas(f.stranger, { deals }), "INVALID_INPUT", "DealsReplicaCountMismatch");
    await f.increaseTime(100 + MEDIATION_TIMEOUT - 5);
    await rejectsWith(claimMediationTimeout(f.stranger, { deal: deals[0] }), "CHAIN_REVERT", "DealsMediationNotTimedOut");
    await f.increaseTime(10);
    const b0 = await f.balances();
    for (const deal of deals) await claimMediationTimeout(f.stranger, { deal });
    await f.assertMoved(b0, {
      [addr(f.jobCreator)]: 2n * (price + mediationFee),
      [addr(f.providers[0])]: collateral,
      [addr(f.providers[1])]: collateral,
      totalLocked: -2n * (price + mediationFee + collateral),
    });
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
      error: "DealsDuplicateReplicaProvider",
      make: async () => {
        const { jobOffer, deals } = await group([A, B, B]);
        const twin = await f.newDeal(f.policyTerms("replicate", 3n, { jobOffer, provider: addr(f.providers[1]) }));
        await f.open(twin);
        await commitResult(f.providers[1], { deal: twin.deal, resultDigest: B });
        return [deals[0], deals[1], twin.deal];
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
