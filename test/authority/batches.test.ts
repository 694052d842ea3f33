// Batches (openDeals, commitResults, finalizeDeals) against the authority map: whoever submits a
// batch, and whatever another party does to one of its items first, no party loses a wei it
// would not lose on the single-deal path, nothing opens or pays twice, and no single item can
// make the rest of the batch fail. Each test plays the attacker with real keys on a real chain
// and checks every party's escrow and wallet with the ledger of helpers.ts.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { keccak256, parseEther, toHex, type Hex } from "viem";
import {
  challenge,
  commitResult,
  commitResults,
  dealId,
  dealState,
  escrowBalance,
  finalizeDeals,
  openDeal,
  openDeals,
  withdraw,
} from "../../packages/chain/src/index.ts";
import { rejectsWith, startFixture, type Fixture, type SignedDeal } from "../../packages/chain/test/fixture.ts";
import { addr, assertEscrowMoved, assertUnchanged, ledger } from "./helpers.ts";

let f: Fixture;
before(async () => (f = await startFixture()));
after(() => f.stop());

const PRICE = parseEther("1");
const COLLATERAL = parseEther("2");
const cheap = { price: PRICE, collateral: COLLATERAL };
const digest = keccak256(toHex("the result"));
const stateOf = (s: SignedDeal) => dealState(f.deployer, { dealId: dealId(f.addresses, s.deal) });
const results = (batch: SignedDeal[]) => batch.map((s) => ({ deal: s.deal, resultDigest: digest }));

describe("whoever submits a batch (the solver, a party, a stranger)", () => {
  test("a job creator that front-runs the solver's batch by opening one of its deals alone gets that deal locked once, and the batch still opens the rest", async () => {
    const batch = await Promise.all([1, 2, 3].map(() => f.newDeal(cheap)));
    const b0 = await ledger(f);
    await openDeal(f.jobCreator, batch[1]!); // the front-run
    const r = await openDeals(f.stranger, { deals: batch });
    assert.equal(r.opened.length, 2);
    assert.deepEqual(
      r.skipped.map((s) => [s.index, s.reason]),
      [[1, "DealsAlreadyOpened"]],
    );
    await assertEscrowMoved(f, b0, { jobCreator: -3n * PRICE, provider: -3n * COLLATERAL, totalLocked: 3n * (PRICE + COLLATERAL) });
  });

  test("replaying a batch that was already sent opens nothing and moves nothing", async () => {
    const batch = await Promise.all([1, 2].map(() => f.newDeal(cheap)));
    await openDeals(f.stranger, { deals: batch });
    const b0 = await ledger(f);
    const r = await openDeals(f.stranger, { deals: batch });
    assert.deepEqual(r.opened, []);
    await assertUnchanged(f, b0);
  });

  test("a job creator that empties its escrow just before the batch lands loses its own items only; the provider's other deals open", async () => {
    // The stranger is the job creator of one deal and pulls its escrow out; the batch goes on.
    const theirs = await f.newDeal({ ...cheap, jobCreator: addr(f.stranger) });
    theirs.jobCreatorSig = await f.sign(f.stranger, theirs.deal);
    const honest = await f.newDeal(cheap);
    await withdraw(f.stranger, { amount: await escrowBalance(f.stranger) });
    const b0 = await ledger(f);
    const r = await openDeals(f.provider, { deals: [theirs, { ...honest, providerSig: "0x" as Hex }] });
    assert.deepEqual(
      r.skipped.map((s) => [s.index, s.reason]),
      [[0, "EscrowInsufficientBalance"]],
    );
    assert.equal(await stateOf(theirs), "none");
    await assertEscrowMoved(f, b0, { jobCreator: -PRICE, provider: -COLLATERAL, totalLocked: PRICE + COLLATERAL });
  });

  test("a provider cannot open a deal on someone else's escrow by submitting it with its own signature on both sides", async () => {
    const s = await f.newDeal({ ...cheap, jobCreator: addr(f.providers[1]!) });
    s.jobCreatorSig = await f.sign(f.provider, s.deal);
    const b0 = await ledger(f);
    const r = await openDeals(f.provider, { deals: [{ ...s, providerSig: "0x" }] });
    assert.deepEqual(
      r.skipped.map((x) => x.reason),
      ["DealsInvalidSignature"],
    );
    await assertUnchanged(f, b0);
  });
});

describe("settling in batches", () => {
  test("a provider that commits the same deals in two batches and on the single path is paid once", async () => {
    const batch = await Promise.all([1, 2].map(() => f.newDeal(cheap)));
    await openDeals(f.stranger, { deals: batch });
    const b0 = await ledger(f);
    await commitResults(f.provider, { results: [...results(batch), ...results(batch)] });
    await commitResults(f.provider, { results: results(batch) });
    await rejectsWith(commitResult(f.provider, results(batch)[0]!), "CHAIN_REVERT", "DealsNotOpen");
    await assertEscrowMoved(f, b0, { provider: 2n * (PRICE + COLLATERAL), totalLocked: -2n * (PRICE + COLLATERAL) });
  });

  test("nobody can commit for the provider: a stranger's or a job creator's commitResults moves nothing", async () => {
    const s = await f.newDeal(cheap);
    await f.open(s);
    const b0 = await ledger(f);
    for (const who of [f.stranger, f.jobCreator]) {
      const r = await commitResults(who, { results: results([s]) });
      assert.deepEqual(
        r.skipped.map((x) => x.reason),
        ["DealsNotProvider"],
      );
    }
    assert.equal(await stateOf(s), "open");
    await assertUnchanged(f, b0);
  });

  test("finalizing optimistic deals in a batch before their window closes moves nothing, and the job creator can still challenge", async () => {
    const terms = f.policyTerms("optimistic", 300n, { ...cheap });
    const batch = [await f.newDeal(terms), await f.newDeal(terms)];
    await openDeals(f.stranger, { deals: batch });
    await commitResults(f.provider, { results: results(batch) });
    const b0 = await ledger(f);
    const r = await finalizeDeals(f.provider, { deals: batch.map((s) => s.deal) });
    assert.deepEqual(
      r.skipped.map((x) => x.reason),
      ["DealsChallengeWindowOpen", "DealsChallengeWindowOpen"],
    );
    await assertUnchanged(f, b0);
    await challenge(f.jobCreator, { deal: batch[0]!.deal, reason: keccak256(toHex("wrong")) });
    assert.equal(await stateOf(batch[0]!), "challenged");
    // After the window, a batch settles the unchallenged deal and leaves the challenged one to its mediator.
    await f.increaseTime(300);
    const later = await finalizeDeals(f.stranger, { deals: batch.map((s) => s.deal) });
    assert.deepEqual(later.settled, [dealId(f.addresses, batch[1]!.deal)]);
    assert.deepEqual(
      later.skipped.map((x) => [x.index, x.reason]),
      [[0, "DealsNotCommitted"]],
    );
    assert.equal(await stateOf(batch[0]!), "challenged");
  });
});
