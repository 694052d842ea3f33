// Authority map, mediator: it may NOT rule on a deal whose parties did not both accept it as
// mediator. Around that line: only the mediator drawn (from a block hash nobody knew) rules,
// only once, only on a deal waiting for a ruling, only in time, and only with the very list the
// parties signed. Real chain, real contracts, real signatures; every refusal changes nothing.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { keccak256, toHex, type Address } from "viem";
import { commonMediators, mediatorSetHash, type DealMessage } from "@lily/protocol";
import {
  challenge,
  claimMediationTimeout,
  commitResult,
  dealRecord,
  dealState,
  dealId,
  mediatorOf,
  rule,
  ruleReplicas,
  settleReplicas,
  type LilyClient,
} from "../../packages/chain/src/index.ts";
import { rejectsWith, startFixture, type Fixture } from "../../packages/chain/test/fixture.ts";
import { addr, assertEscrowMoved, assertUnchanged, ledger, nameOf } from "./helpers.ts";

const MEDIATION_TIMEOUT = 900;
const WINDOW = 600n;
const right = keccak256(toHex("the right result"));
const wrong = keccak256(toHex("a made-up result"));

let f: Fixture;
before(async () => (f = await startFixture({ mediationTimeoutSeconds: MEDIATION_TIMEOUT })));
after(() => f.stop());

/** An optimistic deal over `mediators` (default: the fixture's three), committed with `result` and challenged. */
async function challenged(result = wrong, mediators?: Address[]) {
  const terms = f.policyTerms("optimistic", WINDOW, mediators ? { mediators: mediatorSetHash(mediators) } : {});
  const signed = await f.newDeal(terms);
  const b0 = await ledger(f);
  await f.open(signed);
  await commitResult(f.provider, { deal: signed.deal, resultDigest: result });
  await challenge(f.jobCreator, { deal: signed.deal });
  return { ...signed, b0, list: mediators ?? f.mediatorSet };
}

/** Mine until the draw is made; the drawn mediator and the others of the list. */
async function draw(deal: DealMessage, list: Address[]): Promise<{ drawn: LilyClient; others: LilyClient[] }> {
  const { drawBlock } = await dealRecord(f.deployer, { dealId: dealId(f.addresses, deal) });
  const missing = drawBlock + 2n - (await f.blockNumber());
  if (missing > 0n) await f.mine(Number(missing));
  const drawn = f.clientOf(await mediatorOf(f.deployer, { deal, mediators: list }));
  return { drawn, others: list.filter((m) => m !== addr(drawn)).map((m) => f.clientOf(m)) };
}

const ruling = (deal: DealMessage, mediators: readonly Address[], providerCorrect = false) => ({
  deal,
  mediators,
  providerCorrect,
  comparator: "exact" as const,
});

describe("a mediator may NOT rule on a deal whose parties did not both accept it", () => {
  test("a mediator only the job creator listed rules: DealsNotMediator with the signed set, DealsMediatorSetMismatch with the job creator's list", async () => {
    const [m0, m1, m2] = f.mediatorSet as [Address, Address, Address];
    const jobCreatorList = [m0, m1, m2];
    const providerList = [m0, m1];
    const both = commonMediators(jobCreatorList, providerList);
    assert.deepEqual(both, [m0, m1]);
    const d = await challenged(wrong, both);
    const { drawn } = await draw(d.deal, both);
    const outsider = f.clientOf(m2);

    const b = await ledger(f);
    const e = await rejectsWith(rule(outsider, ruling(d.deal, both)), "CHAIN_REVERT", "DealsNotMediator");
    assert.equal((e.details.args as Record<string, string>).caller, m2);
    const mismatch = await rejectsWith(rule(outsider, ruling(d.deal, jobCreatorList)), "INVALID_INPUT", "DealsMediatorSetMismatch");
    assert.equal(mismatch.field, "mediators");
    // Nor one of the accepted mediators with that wider list, nor an account nobody listed.
    await rejectsWith(rule(drawn, ruling(d.deal, jobCreatorList)), "INVALID_INPUT", "DealsMediatorSetMismatch");
    await rejectsWith(rule(f.stranger, ruling(d.deal, both)), "CHAIN_REVERT", "DealsNotMediator");
    await assertUnchanged(f, b);

    // The mediator both accepted, and the draw picked, rules; the money goes by the rules.
    await rule(drawn, ruling(d.deal, both));
    const { collateral, mediationFee: fee } = d.deal;
    await assertEscrowMoved(f, d.b0, { jobCreator: collateral - fee, provider: -collateral, [nameOf(f, drawn)]: fee });
  });

  test("an accepted mediator the draw did not pick rules: DealsNotDrawnMediator", async () => {
    const d = await challenged();
    const { drawn, others } = await draw(d.deal, d.list);
    const b = await ledger(f);
    for (const other of others) {
      const e = await rejectsWith(rule(other, ruling(d.deal, d.list, true)), "CHAIN_REVERT", "DealsNotDrawnMediator");
      assert.deepEqual(e.details.args, { key: dealId(f.addresses, d.deal), caller: addr(other), drawn: addr(drawn) });
    }
    await assertUnchanged(f, b);
    await rule(drawn, ruling(d.deal, d.list));
  });

  test("a mediator rules before the draw is made: DealsMediatorNotDrawnYet (nobody can rule on a draw it could not know)", async () => {
    const d = await challenged();
    const b = await ledger(f);
    for (const m of f.mediators) await rejectsWith(rule(m, ruling(d.deal, d.list)), "CHAIN_REVERT", "DealsMediatorNotDrawnYet");
    await assertUnchanged(f, b);
    const { drawn } = await draw(d.deal, d.list);
    await rule(drawn, ruling(d.deal, d.list));
  });

  test("the drawn mediator rules with a list that does not hash to the signed set: DealsMediatorSetMismatch", async () => {
    const d = await challenged();
    const { drawn } = await draw(d.deal, d.list);
    const me = addr(drawn);
    const lists: Record<string, Address[]> = {
      "only itself": [me],
      "itself three times": [me, me, me],
      "the set in another order": [...d.list].reverse(),
      "the set plus a stranger": commonMediators([...d.list, addr(f.stranger)], [...d.list, addr(f.stranger)]),
      "the empty list": [],
    };
    const b = await ledger(f);
    for (const [what, list] of Object.entries(lists)) {
      const e = await rejectsWith(rule(drawn, ruling(d.deal, list, true)), "INVALID_INPUT", "DealsMediatorSetMismatch");
      assert.equal((e.details.args as Record<string, string>).expected, d.deal.mediators, what);
    }
    await assertUnchanged(f, b);
    await rule(drawn, ruling(d.deal, d.list));
  });

  test("the drawn mediator rules twice, the second time the other way: DealsNotChallenged, the first ruling stands", async () => {
    const d = await challenged(right);
    const { drawn } = await draw(d.deal, d.list);
    await rule(drawn, ruling(d.deal, d.list, true));
    const b = await ledger(f);
    const e = await rejectsWith(rule(drawn, ruling(d.deal, d.list, false)), "CHAIN_REVERT", "DealsNotChallenged");
    assert.match(e.message, /is settled: it is not waiting for a mediator/);
    await assertUnchanged(f, b);
    const { price, mediationFee: fee } = d.deal;
    const royalty = price / 10n;
    await assertEscrowMoved(f, d.b0, { jobCreator: -(price + fee), provider: price - royalty, moduleCreator: royalty, [nameOf(f, drawn)]: fee });
  });

  test("a mediator rules on deals that are not challenged (never opened, open, committed, settled): DealsNotChallenged", async () => {
    const never = await f.newDeal(f.policyTerms("optimistic", WINDOW));
    const open = await f.newDeal(f.policyTerms("optimistic", WINDOW));
    const committed = await f.newDeal(f.policyTerms("optimistic", WINDOW));
    const settled = await f.newDeal();
    for (const s of [open, committed, settled]) await f.open(s);
    await commitResult(f.provider, { deal: committed.deal, resultDigest: wrong });
    await commitResult(f.provider, { deal: settled.deal, resultDigest: right });
    const b = await ledger(f);
    for (const [state, s] of [
      ["none", never],
      ["open", open],
      ["committed", committed],
      ["settled", settled],
    ] as const) {
      assert.equal(await dealState(f.deployer, { dealId: dealId(f.addresses, s.deal) }), state);
      for (const m of f.mediators) {
        const e = await rejectsWith(rule(m, ruling(s.deal, f.mediatorSet)), "CHAIN_REVERT", "DealsNotChallenged");
        assert.match(e.message, new RegExp(`is ${state}: it is not waiting for a mediator`));
      }
    }
    await assertUnchanged(f, b);
  });

  test("the drawn mediator rules after its time ran out: DealsMediationTimedOut; the deal unwinds and it earns nothing", async () => {
    const d = await challenged();
    const { drawn } = await draw(d.deal, d.list);
    await f.increaseTime(MEDIATION_TIMEOUT);
    const b = await ledger(f);
    await rejectsWith(rule(drawn, ruling(d.deal, d.list)), "CHAIN_REVERT", "DealsMediationTimedOut");
    await assertUnchanged(f, b);
    await claimMediationTimeout(f.stranger, { deal: d.deal });
    await assertEscrowMoved(f, d.b0, {}); // price and reserve back to the job creator, collateral to the provider
  });

  test("a mediator rules one replica alone, or a replica group it was not drawn for: DealsWrongPolicy, DealsNotDrawnMediator", async () => {
    const group = await f.newGroup(f.providers.slice(0, 3));
    const deals = group.deals;
    await f.openGroup(group);
    for (const [i, result] of [keccak256(toHex("A")), keccak256(toHex("B")), keccak256(toHex("C"))].entries()) {
      await commitResult(f.providers[i]!, { deal: deals[i]!, resultDigest: result });
    }
    assert.equal((await settleReplicas(f.stranger, { deals })).majority, false);
    const drawn = await f.drawnMediator(deals);
    const others = f.mediators.filter((m) => addr(m) !== addr(drawn));
    const b = await ledger(f);
    await rejectsWith(rule(drawn, ruling(deals[0]!, f.mediatorSet)), "CHAIN_REVERT", "DealsWrongPolicy");
    for (const other of others) {
      await rejectsWith(
        ruleReplicas(other, { deals, mediators: f.mediatorSet, correct: [true, false, false], comparator: "exact" }),
        "CHAIN_REVERT",
        "DealsNotDrawnMediator",
      );
    }
    await rejectsWith(
      ruleReplicas(f.stranger, { deals, mediators: f.mediatorSet, correct: [true, true, true], comparator: "exact" }),
      "CHAIN_REVERT",
      "DealsNotMediator",
    );
    await assertUnchanged(f, b);
    await ruleReplicas(drawn, { deals, mediators: f.mediatorSet, correct: [true, false, false], comparator: "exact" });
  });
});
