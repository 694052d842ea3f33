import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { keccak256, parseEther, toHex, type Hex } from "viem";
import { NO_MEDIATORS, Policy, type DealMessage } from "@lily/protocol";
import { commitResult, dealId, dealState, deposit, fundAccount, lilyDealsAbi, type LilyClient } from "../src/index.ts";
import { DEPOSITED, FUNDED, rejectsWith, startFixture, testKey, ZERO_ADDRESS, type DealTerms, type Fixture } from "./fixture.ts";

let f: Fixture;
/** Sixteen funded providers with deposits, for the largest replica group. */
let many: LilyClient[];
before(async () => {
  f = await startFixture();
  many = [];
  for (let i = 0; i < 16; i++) {
    const p = f.clientFor(testKey(`safety provider ${i}`));
    await fundAccount(f.deployer, { to: p.account!.address, tokens: FUNDED, eth: parseEther("1") });
    await deposit(p, { amount: DEPOSITED });
    many.push(p);
    f.depositors.push(p.account!.address); // so the solvency checks count its escrow
  }
});
after(() => f.stop());

/**
 * Open a deal with these terms the way its policy opens: a single deal, or under replicate(k) a
 * whole group (the fixture's providers, or sixteen more; a group of one when k is out of range,
 * whose range check comes first).
 */
async function openWith(terms: DealTerms): Promise<{ id: Hex; deal: DealMessage; open: () => Promise<Hex> }> {
  if (terms.policy !== Policy.replicate) {
    const signed = await f.newDeal(terms);
    return { id: dealId(f.addresses, signed.deal), deal: signed.deal, open: () => f.open(signed) };
  }
  const k = Number(terms.policyParam);
  const members = k < 2 || k > 16 ? [f.provider] : k <= 3 ? f.providers.slice(0, k) : many.slice(0, k);
  const group = await f.newGroup(members, terms);
  return { id: dealId(f.addresses, group.deals[0]!), deal: group.deals[0]!, open: async () => (await f.openGroup(group))[0]! };
}

const DAY = 86_400n;

describe("openDeal rejects unsafe policy parameters, naming why, and changes nothing", () => {
  // Each case: the terms, the custom error, and a phrase the readable message must contain.
  const cases: { when: string; terms: () => DealTerms; error: string; says: RegExp }[] = [
    {
      when: "optimistic with a zero window",
      terms: () => f.policyTerms("optimistic", 0n),
      error: "DealsChallengeWindowOutOfRange",
      says: /window of 0 s is outside \[1 s, 30 days\]/,
    },
    {
      when: "optimistic with a window over 30 days",
      terms: () => f.policyTerms("optimistic", 30n * DAY + 1n),
      error: "DealsChallengeWindowOutOfRange",
      says: /outside \[1 s, 30 days\]/,
    },
    {
      when: "optimistic with no common mediator",
      terms: () => f.policyTerms("optimistic", 60n, { mediators: NO_MEDIATORS }),
      error: "DealsPolicyNeedsMediators",
      says: /unsafe optimistic policy: the parties share no mediator/,
    },
    {
      when: "optimistic with collateral below the mediation fee",
      terms: () => f.policyTerms("optimistic", 60n, { collateral: parseEther("1"), mediationFee: parseEther("2") }),
      error: "DealsCollateralBelowMediationFee",
      says: /collateral 1 LILY is below the mediation fee 2 LILY/,
    },
    {
      when: "audit with p = 0",
      terms: () => f.policyTerms("audit", 0n),
      error: "DealsAuditProbabilityOutOfRange",
      says: /p = 0 ppm is outside \(0, 1000000\]/,
    },
    {
      when: "audit with p above one million",
      terms: () => f.policyTerms("audit", 1_000_001n),
      error: "DealsAuditProbabilityOutOfRange",
      says: /outside \(0, 1000000\]/,
    },
    {
      when: "audit where p × collateral < price (cheating would pay)",
      terms: () => f.policyTerms("audit", 100_000n, { price: parseEther("3"), collateral: parseEther("29") }),
      error: "DealsAuditCollateralTooLow",
      says: /with p = 10% the expected slash .* is below the price 3 LILY/,
    },
    {
      when: "audit with no common mediator",
      terms: () => f.policyTerms("audit", 1_000_000n, { mediators: NO_MEDIATORS }),
      error: "DealsPolicyNeedsMediators",
      says: /unsafe audit policy/,
    },
    {
      when: "audit with collateral below the mediation fee",
      terms: () => f.policyTerms("audit", 1_000_000n, { price: 0n, collateral: 1n, mediationFee: 2n }),
      error: "DealsCollateralBelowMediationFee",
      says: /below the mediation fee/,
    },
    { when: "replicate with k = 1", terms: () => f.policyTerms("replicate", 1n), error: "DealsReplicaCountOutOfRange", says: /k = 1 is outside \[2, 16\]/ },
    { when: "replicate with k = 17", terms: () => f.policyTerms("replicate", 17n), error: "DealsReplicaCountOutOfRange", says: /k = 17 is outside \[2, 16\]/ },
    {
      when: "replicate with no common mediator",
      terms: () => f.policyTerms("replicate", 3n, { mediators: NO_MEDIATORS }),
      error: "DealsPolicyNeedsMediators",
      says: /unsafe replicate policy/,
    },
    {
      when: "replicate with collateral below the mediation fee",
      terms: () => f.policyTerms("replicate", 3n, { collateral: 1n }),
      error: "DealsCollateralBelowMediationFee",
      says: /below the mediation fee/,
    },
    {
      when: "a royalty above the whole price",
      terms: () => ({ royaltyBps: 10_001, moduleCreator: f.moduleCreator.account!.address }),
      error: "DealsInvalidRoyalty",
      says: /10001 basis points exceeds the whole price/,
    },
    {
      when: "a royalty paid to nobody",
      terms: () => ({ royaltyBps: 100, moduleCreator: ZERO_ADDRESS }),
      error: "DealsInvalidRoyalty",
      says: /needs a module creator/,
    },
  ];

  for (const { when, terms, error, says } of cases) {
    test(when, async () => {
      const made = await openWith(terms());
      const before = await f.snapshot(made.deal);
      const e = await rejectsWith(made.open(), "INVALID_INPUT", error);
      assert.match(e.message, says);
      assert.deepEqual(await f.snapshot(made.deal), before);
      assert.equal(before.dealState, "none");
    });
  }

  test("the audit error says what collateral would be safe: ⌈price × 10^6 / p⌉", async () => {
    const signed = await f.newDeal(f.policyTerms("audit", 300_000n, { price: parseEther("3"), collateral: parseEther("9") }));
    const e = await rejectsWith(f.open(signed), "INVALID_INPUT", "DealsAuditCollateralTooLow");
    assert.equal((e.details.args as Record<string, string>).needed, parseEther("10").toString());
    assert.match(e.hint!, /at least 10 LILY/);
  });
});

describe("openDeal accepts policy parameters exactly at the safety limits", () => {
  const cases: { when: string; terms: () => DealTerms }[] = [
    { when: "optimistic with a 1 s window", terms: () => f.policyTerms("optimistic", 1n) },
    { when: "optimistic with a 30-day window", terms: () => f.policyTerms("optimistic", 30n * DAY) },
    { when: "optimistic with collateral equal to the fee", terms: () => f.policyTerms("optimistic", 60n, { collateral: parseEther("0.5") }) },
    {
      when: "audit with p × collateral = price × 10^6",
      terms: () => f.policyTerms("audit", 100_000n, { price: parseEther("3"), collateral: parseEther("30") }),
    },
    { when: "audit with p = 100%", terms: () => f.policyTerms("audit", 1_000_000n, { price: parseEther("3"), collateral: parseEther("3") }) },
    { when: "replicate with k = 2", terms: () => f.policyTerms("replicate", 2n) },
    { when: "replicate with k = 16", terms: () => f.policyTerms("replicate", 16n) },
    { when: "a royalty of the whole price", terms: () => ({ royaltyBps: 10_000, moduleCreator: f.moduleCreator.account!.address }) },
  ];
  for (const { when, terms } of cases) {
    test(when, async () => {
      const made = await openWith(terms());
      const id = await made.open();
      assert.equal(await dealState(f.deployer, { dealId: id }), "open");
    });
  }
});

describe("a trusted deal with a royalty", () => {
  test("pays the module creator its share of the price at settlement, and the provider the rest", async () => {
    const signed = await f.newDeal({ royaltyBps: 250, moduleCreator: f.moduleCreator.account!.address, price: parseEther("4") });
    await f.open(signed);
    const b0 = await f.balances();
    const committed = await commitResult(f.provider, { deal: signed.deal, resultDigest: keccak256(toHex("r")) });
    assert.equal(committed.settled, true);
    await f.assertMoved(b0, {
      [f.provider.account!.address]: parseEther("3.9") + signed.deal.collateral,
      [f.moduleCreator.account!.address]: parseEther("0.1"),
      totalLocked: -(parseEther("4") + signed.deal.collateral),
    });
  });

  test("rounds the royalty down, in the provider's favour", async () => {
    const signed = await f.newDeal({ royaltyBps: 3333, moduleCreator: f.moduleCreator.account!.address, price: 10n, collateral: 0n });
    await f.open(signed);
    const b0 = await f.balances();
    await commitResult(f.provider, { deal: signed.deal, resultDigest: keccak256(toHex("r")) });
    await f.assertMoved(b0, { [f.provider.account!.address]: 7n, [f.moduleCreator.account!.address]: 3n, totalLocked: -10n });
  });
});

describe("the deployment", () => {
  test("has a fixed mediation timeout and mediator turn, and no owner", async () => {
    const read = (functionName: "MEDIATION_TIMEOUT" | "MEDIATOR_TURN") =>
      f.deployer.publicClient.readContract({ address: f.addresses.deals, abi: lilyDealsAbi, functionName });
    assert.equal(await read("MEDIATION_TIMEOUT"), 3600n);
    assert.equal(await read("MEDIATOR_TURN"), 1800n);
    const names = lilyDealsAbi.filter((i) => i.type === "function").map((i) => i.name);
    for (const admin of ["owner", "setMediationTimeout", "pause", "transferOwnership", "upgradeTo", "sweep"]) assert.ok(!names.includes(admin as never), admin);
  });
});
