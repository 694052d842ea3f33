// The rule above the authority map: an honest party never loses by what another party signs,
// sends, withholds or re-orders. Each test is an attack found against the contracts, played by
// the attacker with real keys on a real chain, and ends by checking that the honest party lost
// nothing (its escrow to the wei, and the supply conserved).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { keccak256, parseEther, toHex, type Address, type Hex } from "viem";
import { replicaGroupHash, type DealMessage } from "@lily/protocol";
import {
  challenge,
  claimMediationTimeout,
  claimTimeout,
  commitResult,
  dealId,
  dealState,
  deposit,
  escrowBalance,
  fundAccount,
  lockDraw as lockDrawOnChain,
  mediatorOf,
  openDeal,
  openReplicas,
  rule,
  settleReplicas,
  type LilyClient,
} from "../../packages/chain/src/index.ts";
import { FUNDED, DEPOSITED, startFixture, testKey, type Fixture, type SignedDeal } from "../../packages/chain/test/fixture.ts";
import { assertConserved } from "./helpers.ts";

const MEDIATION_TIMEOUT = 1200;
const right = keccak256(toHex("the right result"));
const garbage = keccak256(toHex("garbage"));

let f: Fixture;
let sybils: LilyClient[];
before(async () => {
  f = await startFixture({ mediationTimeoutSeconds: MEDIATION_TIMEOUT });
  // Providers the job creator controls: funded and deposited like anyone else.
  sybils = [f.stranger, f.clientFor(testKey("sybil provider"))];
  await fundAccount(f.deployer, { to: sybils[1]!.account!.address, tokens: FUNDED, eth: parseEther("10") });
  await deposit(sybils[1]!, { amount: DEPOSITED });
});
after(() => f.stop());

const addr = (c: LilyClient): Address => c.account!.address;
const escrow = (c: LilyClient) => escrowBalance(f.deployer, { account: addr(c) });
const stateOf = (deal: DealMessage) => dealState(f.deployer, { dealId: dealId(f.addresses, deal) });

/** Run `action`; a refusal is a fine outcome for an attacker's step. Returns whether it went through. */
async function attempt(action: Promise<unknown>): Promise<boolean> {
  try {
    await action;
    return true;
  } catch {
    return false;
  }
}

// The deals of one replica group, as the solver proposed them: the honest provider's and its two
// honest peers', all signed by their providers and the job creator.
// `group` is the group the deals say they belong to: the honest group for honest deals; the
// attacker may name any group it likes in the deals it signs with its own providers.
async function replicaGroup(jobOffer: Hex, members: LilyClient[], group = members): Promise<SignedDeal[]> {
  const out: SignedDeal[] = [];
  const replicas = replicaGroupHash(group.map(addr));
  for (const p of members) {
    const signed = await f.newDeal(f.policyTerms("replicate", BigInt(group.length), { jobOffer, provider: addr(p), replicas }));
    out.push({ ...signed, providerSig: await f.sign(p, signed.deal) });
  }
  return out;
}

/** Open a replica group the way its parties can: whole. */
async function openGroup(group: SignedDeal[]): Promise<boolean> {
  return attempt(openReplicas(f.stranger, { replicas: group }));
}

/** Fix the mediator draw of a disputed deal (what the drawn mediator does first). */
async function lockDraw(deal: DealMessage): Promise<void> {
  await lockDrawOnChain(f.stranger, { deal });
}

describe("an honest replica never loses to a group it did not sign", () => {
  test("the job creator signs extra replica deals with providers it controls and tallies the honest provider with them: the honest provider is not slashed", async () => {
    const [honest, peerA, peerB] = f.providers as [LilyClient, LilyClient, LilyClient];
    const jobOffer = keccak256(toHex("a replicated job, attacked"));
    // What the honest provider signed: a group with its two honest peers.
    const [mine] = await replicaGroup(jobOffer, [honest, peerA, peerB]);
    const before = await escrow(honest);
    // The attack: deals for the same job offer with the job creator's own providers, naming
    // a group of the honest provider and them.
    const fake = await replicaGroup(jobOffer, sybils, [honest, ...sybils]);
    await openGroup([mine!, ...fake]);
    if ((await stateOf(mine!.deal)) === "open") await commitResult(honest, { deal: mine!.deal, resultDigest: right });
    for (const [i, s] of sybils.entries()) await attempt(commitResult(s, { deal: fake[i]!.deal, resultDigest: garbage }));
    await attempt(settleReplicas(f.jobCreator, { deals: [mine!.deal, ...fake.map((d) => d.deal)] }));

    assert.notEqual(await stateOf(mine!.deal), "slashed", "the honest replica was slashed by a group it never signed");
    // Its collateral is either back or still locked in a deal it can settle; never gone.
    if ((await stateOf(mine!.deal)) === "none") assert.equal(await escrow(honest), before);
    await assertConserved(f, { sybil: addr(sybils[1]!) });
  });

  test("the job creator signs only one replica of a group: it cannot take the committed work for free", async () => {
    const [honest, peerA, peerB] = f.providers as [LilyClient, LilyClient, LilyClient];
    const jobOffer = keccak256(toHex("a replicated job, half signed"));
    const [mine] = await replicaGroup(jobOffer, [honest, peerA, peerB]);
    const before = await escrow(honest);
    // Only the honest provider's deal is ever opened; the job creator never signs the others.
    const opened = await attempt(openDeal(honest, mine!));
    if (opened) {
      await commitResult(honest, { deal: mine!.deal, resultDigest: right });
      await f.increaseTime(3600 + MEDIATION_TIMEOUT + 1);
      await attempt(claimMediationTimeout(f.jobCreator, { deal: mine!.deal }));
      await attempt(settleReplicas(honest, { deals: [mine!.deal] }));
      // A result was committed: the provider must end up paid for it.
      assert.equal(await stateOf(mine!.deal), "settled", "the job creator got the committed result and a full refund");
      assert.equal(await escrow(honest), before + mine!.deal.price - mine!.deal.price / 10n);
    } else {
      // Nothing opened, nothing ran, nothing moved.
      assert.equal(await stateOf(mine!.deal), "none");
      assert.equal(await escrow(honest), before);
    }
    await assertConserved(f, { sybil: addr(sybils[1]!) });
  });
});

describe("an honest provider never loses collateral for a deal it could not open", () => {
  test("the job creator makes the provider's opening fail, then opens the deal itself long after: refused", async () => {
    // The provider gave the deal a window (60 s) to open in; the job has 60 s to run after it.
    const now = (await f.deployer.publicClient.getBlock()).timestamp;
    const signed = await f.newDeal({ openBy: now + 60n, deadlineIn: 120 });
    const before = await escrow(f.provider);
    // The provider's own opening failed (the job creator had emptied its escrow), so it moved on.
    // Long after, with the job creator's escrow refilled, the job creator opens the deal.
    await f.increaseTime(110);
    const opened = await attempt(openDeal(f.jobCreator, signed));
    if (opened) {
      await f.increaseTime(20);
      await attempt(claimTimeout(f.jobCreator, { deal: signed.deal }));
    }
    assert.equal(opened, false, "a deal opened after the time the provider gave for opening");
    assert.equal(await escrow(f.provider), before);
    await assertConserved(f, { sybil: addr(sybils[1]!) });
  });
});

describe("nobody rules on a dispute they are party to", () => {
  test("the job creator, listed as a mediator, is drawn and rules against a correct result: refused, and the provider is not slashed", async () => {
    const jc = f.jobCreator;
    const set = [addr(jc)];
    const signed = await f.newDeal(f.policyTerms("optimistic", 600n, { mediators: keccak256(encodeSet(set)) }));
    const before = await escrow(f.provider);
    await f.open(signed);
    await commitResult(f.provider, { deal: signed.deal, resultDigest: right });
    await challenge(jc, { deal: signed.deal, reason: "mine to judge" });
    await f.mine(2);
    await lockDraw(signed.deal);
    const ruled = await attempt(rule(jc, { deal: signed.deal, mediators: set, providerCorrect: false, comparator: "exact" }));
    assert.equal(ruled, false, "the job creator ruled on its own challenge");
    assert.notEqual(await stateOf(signed.deal), "slashed");
    // Nobody else may rule: the mediation unwinds and the provider keeps its collateral.
    await f.increaseTime(MEDIATION_TIMEOUT + 1);
    await claimMediationTimeout(f.stranger, { deal: signed.deal });
    assert.equal(await escrow(f.provider), before);
    await assertConserved(f, { sybil: addr(sybils[1]!) });
  });

  test("the provider, listed as a mediator, is drawn and rules its own wrong result correct: refused, and the job creator is refunded", async () => {
    const set = [addr(f.provider)];
    const signed = await f.newDeal(f.policyTerms("optimistic", 600n, { mediators: keccak256(encodeSet(set)) }));
    const before = await escrow(f.jobCreator);
    await f.open(signed);
    await commitResult(f.provider, { deal: signed.deal, resultDigest: garbage });
    await challenge(f.jobCreator, { deal: signed.deal, reason: "wrong" });
    await f.mine(2);
    await lockDraw(signed.deal);
    const ruled = await attempt(rule(f.provider, { deal: signed.deal, mediators: set, providerCorrect: true, comparator: "exact" }));
    assert.equal(ruled, false, "the provider ruled on its own result");
    await f.increaseTime(MEDIATION_TIMEOUT + 1);
    await attempt(claimMediationTimeout(f.stranger, { deal: signed.deal }));
    assert.equal(await escrow(f.jobCreator), before, "the job creator paid for a result a party judged");
    await assertConserved(f, { sybil: addr(sybils[1]!) });
  });
});

describe("a drawn mediator keeps its turn for its time, not for a number of blocks", () => {
  test("300 blocks pass in a few seconds while the drawn mediator re-runs the job: it still rules", async () => {
    const signed = await f.newDeal(f.policyTerms("optimistic", 600n));
    await f.open(signed);
    await commitResult(f.provider, { deal: signed.deal, resultDigest: garbage });
    await challenge(f.jobCreator, { deal: signed.deal, reason: "wrong" });
    const drawn = await f.drawnMediator(signed.deal);
    await lockDraw(signed.deal);
    // A fast chain: many blocks, little time. Mine whole 256-block epochs until the block-hash
    // draw would name someone else (it does within a few epochs with three mediators).
    for (let epoch = 0; epoch < 8; epoch++) {
      await f.mine(256);
      const now = await mediatorOf(f.deployer, { deal: signed.deal, mediators: f.mediatorSet }).catch(() => undefined);
      if (now && now.toLowerCase() !== addr(drawn).toLowerCase()) break;
    }
    const ruled = await attempt(rule(drawn, { deal: signed.deal, mediators: f.mediatorSet, providerCorrect: false, comparator: "exact" }));
    assert.equal(ruled, true, "the drawn mediator lost its turn to blocks, not time");
    assert.equal(await stateOf(signed.deal), "slashed");
    await assertConserved(f, { sybil: addr(sybils[1]!) });
  });
});

describe("an absent mediator delays a ruling by one turn, not until the mediation times out", () => {
  test("once the drawn mediator's turn is over, the next one rules; the first can no longer", async () => {
    const signed = await f.newDeal(f.policyTerms("optimistic", 600n));
    await f.open(signed);
    await commitResult(f.provider, { deal: signed.deal, resultDigest: garbage });
    await challenge(f.jobCreator, { deal: signed.deal, reason: "wrong" });
    const first = await f.drawnMediator(signed.deal);
    await lockDraw(signed.deal);
    // The fixture's turn is half the mediation timeout.
    await f.increaseTime(MEDIATION_TIMEOUT / 2);
    const next = await mediatorOf(f.deployer, { deal: signed.deal, mediators: f.mediatorSet });
    assert.notEqual(next.toLowerCase(), addr(first).toLowerCase());
    assert.equal(await attempt(rule(first, { deal: signed.deal, mediators: f.mediatorSet, providerCorrect: true, comparator: "exact" })), false);
    await rule(f.clientOf(next), { deal: signed.deal, mediators: f.mediatorSet, providerCorrect: false, comparator: "exact" });
    assert.equal(await stateOf(signed.deal), "slashed");
    await assertConserved(f, { sybil: addr(sybils[1]!) });
  });
});

function encodeSet(set: Address[]): Hex {
  // keccak256(abi.encode(address[])) is what a deal carries; encode it here by hand.
  const words = [32n, BigInt(set.length), ...set.map((a) => BigInt(a))];
  return `0x${words.map((w) => w.toString(16).padStart(64, "0")).join("")}`;
}
