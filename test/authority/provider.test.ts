// Authority map, resource provider: it may NOT run a module it did not allow, walk away from a
// deal without losing collateral, or get paid for a wrong result (nor inflate what it is paid).
// Each test has a provider misbehave against the real contracts on a real chain, with real
// signatures, and shows the refusal and that the honest parties end where the rules say.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { keccak256, toHex, type Hex } from "viem";
import { Policy, types } from "@lily/protocol";
import { checkDeal } from "@lily/sdk";
import { loadCatalog } from "@lily/modules";
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
  ruleReplicas,
  settleReplicas,
  withdraw,
} from "../../packages/chain/src/index.ts";
import { rejectsWith, startFixture, type Fixture } from "../../packages/chain/test/fixture.ts";
import {
  DOCUMENTED_DEALS_WRITES,
  assertEscrowMoved,
  assertUnchanged,
  ledger,
  lilyDealsAbi,
  nameOf,
  proposal,
  startTestStore,
  isAdminName,
  writeFunctions,
  providerChecks,
} from "./helpers.ts";

const WINDOW = 600n;
const right = keccak256(toHex("the right result"));
const wrong = keccak256(toHex("a made-up result"));

let f: Fixture;
before(async () => (f = await startFixture()));
after(() => f.stop());

describe("a provider may NOT get paid for a wrong result", () => {
  test("the provider commits a wrong result under optimistic: challenged, ruled wrong, slashed; the job creator is made whole", async () => {
    const signed = await f.newDeal(f.policyTerms("optimistic", WINDOW));
    const { collateral, mediationFee: fee } = signed.deal;
    const b0 = await ledger(f);
    await f.open(signed);
    await commitResult(f.provider, { deal: signed.deal, resultDigest: wrong });
    await challenge(f.jobCreator, { deal: signed.deal, reason: "output differs" });
    const mediator = await f.drawnMediator(signed.deal);
    // REJECT: the provider cannot rule for itself, nor unwind the mediation early.
    const b1 = await ledger(f);
    await rejectsWith(
      rule(f.provider, { deal: signed.deal, mediators: f.mediatorSet, providerCorrect: true, comparator: "exact" }),
      "CHAIN_REVERT",
      "DealsMediatorIsParty",
    );
    await rejectsWith(claimMediationTimeout(f.provider, { deal: signed.deal }), "CHAIN_REVERT", "DealsMediationNotTimedOut");
    await assertUnchanged(f, b1);

    await rule(mediator, { deal: signed.deal, mediators: f.mediatorSet, providerCorrect: false, comparator: "exact" });
    assert.equal(await dealState(f.deployer, { dealId: dealId(f.addresses, signed.deal) }), "slashed");
    // The job creator paid nothing and gained the collateral less the mediator's fee; no royalty.
    await assertEscrowMoved(f, b0, { jobCreator: collateral - fee, provider: -collateral, [nameOf(f, mediator)]: fee });
  });

  test("the provider commits a wrong result under audit(100%): audited without any challenge, slashed", async () => {
    const signed = await f.newDeal(f.policyTerms("audit", 1_000_000n));
    const { collateral, mediationFee: fee } = signed.deal;
    const b0 = await ledger(f);
    await f.open(signed);
    await commitResult(f.provider, { deal: signed.deal, resultDigest: wrong });
    await f.mine(3);
    assert.equal((await finalize(f.stranger, { deal: signed.deal })).outcome, "challenged");
    const mediator = await f.drawnMediator(signed.deal);
    await rule(mediator, { deal: signed.deal, mediators: f.mediatorSet, providerCorrect: false, comparator: "exact" });
    await assertEscrowMoved(f, b0, { jobCreator: collateral - fee, provider: -collateral, [nameOf(f, mediator)]: fee });
  });

  test("the provider commits a minority result in a replicate(3) group: slashed by the tally; the majority is paid", async () => {
    const group = await f.newGroup(f.providers.slice(0, 3));
    const deals = group.deals;
    const b0 = await ledger(f);
    await f.openGroup(group);
    for (const [i, result] of [right, right, wrong].entries()) {
      await commitResult(f.providers[i]!, { deal: deals[i]!, resultDigest: result });
    }
    const { price, collateral } = deals[0]!;
    const royalty = price / 10n;
    const settled = await settleReplicas(f.stranger, { deals });
    assert.deepEqual(
      settled.outcomes.map((o) => o.outcome),
      ["settled", "settled", "slashed"],
    );
    await assertEscrowMoved(f, b0, {
      jobCreator: -2n * price + collateral, // paid the two right replicas, refunded the wrong one and given its collateral
      provider: price - royalty,
      provider2: price - royalty,
      provider3: -collateral,
      moduleCreator: 2n * royalty,
    });
  });
});

describe("a provider may NOT walk away from a deal without losing its collateral", () => {
  test("the provider that goes silent: claimTimeout returns every locked token, the job creator refunded and given the collateral", async () => {
    for (const [policy, terms] of [
      ["trust", {}],
      ["optimistic", f.policyTerms("optimistic", WINDOW)],
    ] as const) {
      const signed = await f.newDeal({ ...terms, deadlineIn: 60 });
      const { collateral } = signed.deal;
      const b0 = await ledger(f);
      await f.open(signed);
      await f.increaseTime(61);
      await claimTimeout(f.stranger, { deal: signed.deal });
      assert.equal(await dealState(f.deployer, { dealId: dealId(f.addresses, signed.deal) }), "timedOut", policy);
      // totalLocked is back where it was: every token the deal locked left the lock.
      await assertEscrowMoved(f, b0, { jobCreator: collateral, provider: -collateral });
    }
  });

  test("the provider that opened a deal has no way to release its collateral early: no cancel function, and every write refuses it", async () => {
    // No function of the contract is a way out: the state-changing ones are the documented ones.
    const writes = writeFunctions(lilyDealsAbi)
      .map((fn) => fn.name)
      .sort();
    assert.deepEqual(writes, [...DOCUMENTED_DEALS_WRITES]);
    assert.deepEqual(writes.filter(isAdminName), [], "no cancel, release or unlock");

    const signed = await f.newDeal(f.policyTerms("optimistic", WINDOW, { deadlineIn: 120 }));
    const { collateral } = signed.deal;
    const b0 = await ledger(f);
    await f.open(signed);
    const free = await escrowBalance(f.provider);
    const b1 = await ledger(f);
    const deal = signed.deal;
    const rp = f.provider;
    // REJECT, each way a provider could try to get its collateral back before the deadline:
    await rejectsWith(withdraw(rp, { amount: free + collateral }), "INSUFFICIENT_DEPOSIT", "EscrowInsufficientBalance");
    await rejectsWith(claimTimeout(rp, { deal }), "CHAIN_REVERT", "DealsDeadlineNotPassed");
    await rejectsWith(claimMediationTimeout(rp, { deal }), "CHAIN_REVERT", "DealsNotChallenged");
    await rejectsWith(finalize(rp, { deal }), "CHAIN_REVERT", "DealsNotCommitted");
    await rejectsWith(challenge(rp, { deal }), "CHAIN_REVERT", "DealsNotJobCreator");
    await rejectsWith(rule(rp, { deal, mediators: f.mediatorSet, providerCorrect: true, comparator: "exact" }), "CHAIN_REVERT", "DealsNotChallenged");
    await rejectsWith(settleReplicas(rp, { deals: [deal] }), "INVALID_INPUT", "DealsNotReplicated");
    await rejectsWith(
      ruleReplicas(rp, { deals: [deal], mediators: f.mediatorSet, correct: [true], comparator: "exact" }),
      "INVALID_INPUT",
      "DealsNotReplicated",
    );
    await rejectsWith(openDeal(rp, signed), "CHAIN_REVERT", "DealsAlreadyOpened");
    // ...nor by re-supplying the deal with terms that would free it (a past deadline, no collateral).
    for (const altered of [
      { ...deal, deadline: deal.deadline - 1000n },
      { ...deal, collateral: 0n },
    ]) {
      await rejectsWith(claimTimeout(rp, { deal: altered }), "CHAIN_REVERT", "DealsNotOpen");
    }
    await assertUnchanged(f, b1);

    // Walking away: the deadline passes, and the collateral goes to the job creator.
    await f.increaseTime(121);
    await claimTimeout(f.jobCreator, { deal });
    await assertEscrowMoved(f, b0, { jobCreator: collateral, provider: -collateral });
  });

  test("the provider commits after the deadline: refused, the deal can only time out", async () => {
    const signed = await f.newDeal({ deadlineIn: 30 });
    const { collateral } = signed.deal;
    const b0 = await ledger(f);
    await f.open(signed);
    await f.increaseTime(31);
    const b1 = await ledger(f);
    const e = await rejectsWith(commitResult(f.provider, { deal: signed.deal, resultDigest: right }), "DEADLINE_PASSED", "DealsDeadlinePassed");
    assert.equal(e.field, "deadline");
    await assertUnchanged(f, b1);
    await claimTimeout(f.stranger, { deal: signed.deal });
    await assertEscrowMoved(f, b0, { jobCreator: collateral, provider: -collateral });
  });

  test("a provider commits a result for another provider's deal: DealsNotProvider, nothing changes", async () => {
    const signed = await f.newDeal(); // provider 1's deal
    await f.open(signed);
    const b = await ledger(f);
    const other = f.providers[1]!;
    const e = await rejectsWith(commitResult(other, { deal: signed.deal, resultDigest: wrong }), "CHAIN_REVERT", "DealsNotProvider");
    assert.deepEqual(e.details.args, { dealId: dealId(f.addresses, signed.deal), caller: other.account!.address });
    // Naming itself as the provider makes it another deal, one that was never opened.
    await rejectsWith(commitResult(other, { deal: { ...signed.deal, provider: other.account!.address }, resultDigest: wrong }), "CHAIN_REVERT", "DealsNotOpen");
    await assertUnchanged(f, b);
    await commitResult(f.provider, { deal: signed.deal, resultDigest: right }); // the real provider still can
  });
});

describe("a provider may NOT inflate the work it reports", () => {
  test("what the provider commits is a digest and nothing else: commitResult takes (deal, bytes32), a signed Result has no amount", () => {
    const commit = lilyDealsAbi.find((i) => i.type === "function" && i.name === "commitResult")!;
    assert.ok(commit.type === "function");
    assert.deepEqual(
      commit.inputs.map((i) => i.type),
      ["tuple", "bytes32"],
    );
    assert.deepEqual(
      types.Result.map((fld) => fld.name),
      ["dealId", "provider", "result", "exitCode"],
    );
  });

  test("the provider commits results claiming different work: paid exactly the signed price less royalty each time", async () => {
    const claims: Hex[] = [keccak256(toHex("1 cpu-second")), keccak256(toHex("10^9 cpu-seconds, 80 GPUs")), `0x${"ff".repeat(32)}`];
    for (const [policy, extra] of [
      ["trust", { policy: Policy.trust, moduleCreator: f.moduleCreator.account!.address, royaltyBps: 1000 }],
      ["optimistic", f.policyTerms("optimistic", WINDOW)],
    ] as const) {
      for (const resultDigest of claims) {
        const signed = await f.newDeal(extra);
        const { price } = signed.deal;
        const royalty = price / 10n;
        const b0 = await ledger(f);
        await f.open(signed);
        // REJECT: a bigger price in the terms is another deal: never opened, never paid.
        await rejectsWith(commitResult(f.provider, { deal: { ...signed.deal, price: price * 10n }, resultDigest }), "CHAIN_REVERT", "DealsNotOpen");
        await commitResult(f.provider, { deal: signed.deal, resultDigest });
        if (policy === "optimistic") {
          await f.increaseTime(Number(WINDOW));
          await finalize(f.provider, { deal: signed.deal });
        }
        await assertEscrowMoved(f, b0, { jobCreator: -price, provider: price - royalty, moduleCreator: royalty });
      }
    }
  });
});

describe("a provider may NOT run a module it did not allow", () => {
  test("the provider is proposed a deal for a module outside its resource offer: checkProposal declines with MODULE_NOT_ALLOWED", async () => {
    const catalog = loadCatalog();
    const cowsay = catalog.find((m) => m.ref === "cowsay@1.0.0")!;
    const primes = catalog.find((m) => m.ref === "primes@1.0.0")!;
    const { store, close } = await startTestStore();
    try {
      assert.equal(await store.putRecordBytes(cowsay.manifestBytes), cowsay.manifestCid);
      const inputs = await store.putRecord({ message: "moo" });
      const me = f.provider.account!.address;

      // The provider allows only primes; the job is cowsay. Real signed offers, a real store.
      const p = await proposal(f, { module: cowsay.manifestCid, inputs, modules: [primes.manifestCid] });
      const e = await rejectsWith(providerChecks(f, p, store, { me }), "MODULE_NOT_ALLOWED");
      assert.equal(e.field, "module");
      assert.match(e.message, new RegExp(`module ${cowsay.manifestCid} is not allowed by this provider`));
      // The job creator's side refuses the same proposal too: the provider never offered that module.
      const jc = await rejectsWith(checkDeal(f.deployer.domain, p.deal, p.job, p.resource, p.now), "CONFLICT");
      assert.equal(jc.field, "deal.resourceOffer.modules");

      // The same proposal for a module it allows passes every check (the control).
      const ok = await proposal(f, { module: cowsay.manifestCid, inputs, modules: [primes.manifestCid, cowsay.manifestCid] });
      assert.equal((await providerChecks(f, ok, store, { me })).job.manifest.name, "cowsay");
      await checkDeal(f.deployer.domain, ok.deal, ok.job, ok.resource, ok.now);
      // Declining signs nothing, so nothing can open: the deal was never on chain.
      assert.equal(await dealState(f.deployer, { dealId: p.record.id }), "none");
    } finally {
      await close();
    }
  });
});
