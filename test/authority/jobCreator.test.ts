// Authority map, job creator: it may NOT take back escrow once a deal is open, nor escape paying
// for a correct result by a false challenge. Each test has the job creator try, on a real
// chain with the real contracts and real signatures, and shows the refusal (the custom error,
// decoded) and that every honest party ends exactly where the rules say.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { keccak256, parseEther, toHex } from "viem";
import { setSignEntropy } from "viem/accounts";
import {
  challenge,
  claimMediationTimeout,
  claimTimeout,
  commitResult,
  dealId,
  dealState,
  escrowBalance,
  finalize,
  openDeal,
  rule,
  withdraw,
} from "../../packages/chain/src/index.ts";
import { DEPOSITED, rejectsWith, startFixture, type Fixture } from "../../packages/chain/test/fixture.ts";
import { assertEscrowMoved, assertUnchanged, ledger, nameOf } from "./helpers.ts";

const WINDOW = 600n;
const MEDIATION_TIMEOUT = 900;
const right = keccak256(toHex("the right result"));

let f: Fixture;
before(async () => (f = await startFixture({ mediationTimeoutSeconds: MEDIATION_TIMEOUT })));
after(() => f.stop());

/** An optimistic deal (10% royalty, 0.5 LILY fee), opened by a stranger, and its price, fee, collateral, royalty. */
async function optimisticDeal(extra = {}) {
  const signed = await f.newDeal(f.policyTerms("optimistic", WINDOW, extra));
  const { price, collateral, mediationFee: fee } = signed.deal;
  return { ...signed, price, collateral, fee, royalty: price / 10n };
}

describe("a job creator may NOT take back escrow once a deal is open", () => {
  test("the job creator's withdrawal of the price and reserve it locked is refused; the provider is then paid in full", async () => {
    const d = await optimisticDeal();
    const b0 = await ledger(f);
    await f.open(d);
    const free = await escrowBalance(f.jobCreator);
    assert.equal(free, b0["escrow:jobCreator"]! - d.price - d.fee);

    const b1 = await ledger(f);
    // REJECT: one wei more than the free balance, and the whole original deposit.
    for (const amount of [free + 1n, DEPOSITED]) {
      const e = await rejectsWith(withdraw(f.jobCreator, { amount }), "INSUFFICIENT_DEPOSIT", "EscrowInsufficientBalance");
      assert.equal(e.field, "deposit");
      assert.deepEqual(e.details.args, { account: f.jobCreator.account!.address, balance: free.toString(), needed: amount.toString() });
    }
    // REJECT: the other ways back to the money: a timeout before the deadline, an unwinding of a
    // mediation that never started, a finalize before there is a result.
    await rejectsWith(claimTimeout(f.jobCreator, { deal: d.deal }), "CHAIN_REVERT", "DealsDeadlineNotPassed");
    await rejectsWith(claimMediationTimeout(f.jobCreator, { deal: d.deal }), "CHAIN_REVERT", "DealsNotChallenged");
    await rejectsWith(finalize(f.jobCreator, { deal: d.deal }), "CHAIN_REVERT", "DealsNotCommitted");
    await assertUnchanged(f, b1);

    // The provider delivers and, the window over, is paid exactly the price less royalty.
    await commitResult(f.provider, { deal: d.deal, resultDigest: right });
    await f.increaseTime(Number(WINDOW));
    await finalize(f.provider, { deal: d.deal });
    await assertEscrowMoved(f, b0, { jobCreator: -d.price, provider: d.price - d.royalty, moduleCreator: d.royalty });
  });
});

describe("a job creator may NOT escape paying for a correct result by a false challenge", () => {
  test("the job creator challenges a correct result: the mediator rules it correct, the provider is paid in full and the job creator loses the fee", async () => {
    const d = await optimisticDeal();
    const b0 = await ledger(f);
    await f.open(d);
    await commitResult(f.provider, { deal: d.deal, resultDigest: right });
    await challenge(f.jobCreator, { deal: d.deal, reason: "i want my money back" });
    const mediator = await f.drawnMediator(d.deal);

    // REJECT: while it waits, the job creator can neither rule on its own challenge nor unwind it.
    const b1 = await ledger(f);
    await rejectsWith(
      rule(f.jobCreator, { deal: d.deal, mediators: f.mediatorSet, providerCorrect: false, comparator: "exact" }),
      "CHAIN_REVERT",
      "DealsMediatorIsParty",
    );
    await rejectsWith(claimMediationTimeout(f.jobCreator, { deal: d.deal }), "CHAIN_REVERT", "DealsMediationNotTimedOut");
    await assertUnchanged(f, b1);

    await rule(mediator, { deal: d.deal, mediators: f.mediatorSet, providerCorrect: true, comparator: "exact" });
    assert.equal(await dealState(f.deployer, { dealId: dealId(f.addresses, d.deal) }), "settled");
    await assertEscrowMoved(f, b0, {
      jobCreator: -(d.price + d.fee), // the price, and the fee its reserve paid
      provider: d.price - d.royalty, // in full: price less the signed royalty, collateral back
      moduleCreator: d.royalty,
      [nameOf(f, mediator)]: d.fee,
    });
  });

  test("the job creator challenges after the window closed: refused, and the result is paid", async () => {
    const d = await optimisticDeal();
    const b0 = await ledger(f);
    await f.open(d);
    await commitResult(f.provider, { deal: d.deal, resultDigest: right });
    await f.increaseTime(Number(WINDOW));
    const b1 = await ledger(f);
    const e = await rejectsWith(challenge(f.jobCreator, { deal: d.deal }), "CHAIN_REVERT", "DealsChallengeWindowClosed");
    assert.match(e.message, /the result stands/);
    await assertUnchanged(f, b1);
    await finalize(f.stranger, { deal: d.deal });
    await assertEscrowMoved(f, b0, { jobCreator: -d.price, provider: d.price - d.royalty, moduleCreator: d.royalty });
  });

  test("the job creator challenges a trust deal, before and after its result: refused, the provider keeps its pay", async () => {
    const signed = await f.newDeal();
    const { price } = signed.deal;
    const b0 = await ledger(f);
    await f.open(signed);
    const b1 = await ledger(f);
    await rejectsWith(challenge(f.jobCreator, { deal: signed.deal }), "CHAIN_REVERT", "DealsNotCommitted");
    await assertUnchanged(f, b1);
    await commitResult(f.provider, { deal: signed.deal, resultDigest: right }); // trust settles here
    const b2 = await ledger(f);
    const e = await rejectsWith(challenge(f.jobCreator, { deal: signed.deal }), "CHAIN_REVERT", "DealsNotCommitted");
    assert.match(e.message, /is settled, not committed/);
    await assertUnchanged(f, b2);
    await assertEscrowMoved(f, b0, { jobCreator: -price, provider: price });
  });

  test("the job creator challenges an audit(p) deal and a replicate(k) replica: refused, they have no challenge", async () => {
    // audit(50%) is safe for a price of 3 LILY with a collateral of 6.
    const audited = await f.newDeal(f.policyTerms("audit", 500_000n, { collateral: parseEther("6") }));
    await f.open(audited);
    await commitResult(f.provider, { deal: audited.deal, resultDigest: right });
    const group = await f.newGroup(f.providers.slice(0, 2));
    await f.openGroup(group);
    for (const [i, deal] of group.deals.entries()) await commitResult(f.providers[i]!, { deal, resultDigest: right });
    const replica = group.replicas[0]!;
    const b = await ledger(f);
    const e1 = await rejectsWith(challenge(f.jobCreator, { deal: audited.deal }), "CHAIN_REVERT", "DealsWrongPolicy");
    assert.match(e1.message, /is under audit, which has no challenge/);
    const e2 = await rejectsWith(challenge(f.jobCreator, { deal: replica.deal }), "CHAIN_REVERT", "DealsWrongPolicy");
    assert.match(e2.message, /is under replicate, which has no challenge/);
    await assertUnchanged(f, b);
  });
});

describe("a job creator may NOT have one signed deal opened twice", () => {
  test("the job creator signs again and opens a second deal for the same job offer and provider terms: same id, DealsAlreadyOpened", async () => {
    const signed = await f.newDeal();
    const id = await f.open(signed);
    setSignEntropy(true); // from here on signatures are randomised: a second, different, equally valid one
    const again = await f.sign(f.jobCreator, signed.deal);
    assert.notEqual(again, signed.jobCreatorSig);
    assert.equal(dealId(f.addresses, signed.deal), id, "the id is the terms' digest, whoever signs and however often");
    const b = await ledger(f);
    const e = await rejectsWith(openDeal(f.jobCreator, { ...signed, jobCreatorSig: again }), "CHAIN_REVERT", "DealsAlreadyOpened");
    assert.deepEqual(e.details.args, { dealId: id });
    await assertUnchanged(f, b);

    // Once it settled, replaying the same signatures still cannot open (or charge) it again.
    await commitResult(f.provider, { deal: signed.deal, resultDigest: right });
    const b2 = await ledger(f);
    await rejectsWith(openDeal(f.jobCreator, signed), "CHAIN_REVERT", "DealsAlreadyOpened");
    await assertUnchanged(f, b2);
  });

  test("the job creator opens the same job offer with the provider on a lower price: refused, the provider never signed it", async () => {
    const signed = await f.newDeal();
    const cheaper = { ...signed.deal, price: signed.deal.price / 2n };
    const b = await ledger(f);
    const e = await rejectsWith(
      openDeal(f.jobCreator, { deal: cheaper, jobCreatorSig: await f.sign(f.jobCreator, cheaper), providerSig: signed.providerSig }),
      "CHAIN_REVERT",
      "DealsInvalidSignature",
    );
    assert.deepEqual(e.details.args, { signer: f.provider.account!.address });
    await assertUnchanged(f, b);
  });
});
