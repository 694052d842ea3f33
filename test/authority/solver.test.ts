// Authority map, solver: it may NOT move funds, forge or alter a deal (both parties sign it), or
// lock anyone in (an offer can go to another solver, or straight to a chosen provider). The
// solver holds no key that the contracts know: these tests give "the solver" an account of its
// own and have it try, on a real chain with the real contracts, and show that the deal is
// whatever both parties signed, opened by anyone, and that nobody lost anything.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { keccak256, parseEther, toHex, type Address } from "viem";
import { cidForBytes, hashRecord, signRecord, type DealMessage } from "@lily/protocol";
import { createClient, solverRoutes } from "@lily/api";
import { createLogger } from "@lily/node-kit";
import { startSolver, defaultSolverOptions, type RunningSolver } from "@lily/solver";
import { checkDeal } from "@lily/sdk";
import { loadCatalog } from "@lily/modules";
import {
  challenge,
  claimTimeout,
  commitResult,
  deployLily,
  deposit,
  devAccounts,
  dealId,
  dealState,
  escrowBalance,
  finalize,
  fundAccount,
  lilyTokenAbi,
  openDeal,
  rule,
  withLilyErrors,
  withdraw,
  type LilyClient,
} from "../../packages/chain/src/index.ts";
import { DEPOSITED, FUNDED, SUPPLY, rejectsWith, startFixture, testKey, type Fixture, type SignedDeal } from "../../packages/chain/test/fixture.ts";
import { addr, assertEscrowMoved, assertUnchanged, ledger, proposal, startTestStore, providerChecks } from "./helpers.ts";
import { tempDir } from "../support/tempDir.ts";

const right = keccak256(toHex("the right result"));

let f: Fixture;
/** The solver's own account: a key with gas and nothing else, as a solver operator would have. */
let solverAccount: LilyClient;
let solverExtra: Record<string, Address>;
before(async () => {
  f = await startFixture();
  solverAccount = f.clientFor(testKey("the solver"));
  await fundAccount(f.deployer, { to: addr(solverAccount), eth: parseEther("10") });
  solverExtra = { solver: addr(solverAccount) };
});
after(() => f.stop());

describe("a solver may NOT lock anyone in", () => {
  test("a job offer the first solver could not match goes to a second solver, whose deal opens on chain without the first", async () => {
    const logger = createLogger({ module: "solver", level: "error" });
    const solvers: RunningSolver[] = [];
    const start = async () => {
      const dbPath = join(tempDir("lily-authority-solver-"), "solver.db");
      const s = await startSolver(
        {
          ...defaultSolverOptions,
          dbPath,
          domain: f.deployer.domain,
          leases: f.addresses.leases!,
          token: f.addresses.token,
          rpcUrl: f.anvil.rpcUrl,
          deployBlock: f.addresses.deployBlock,
        },
        { logger },
      );
      solvers.push(s);
      return createClient(s.url, solverRoutes);
    };
    try {
      const [a, b] = [await start(), await start()];
      const domain = f.deployer.domain;
      const module = cidForBytes(new TextEncoder().encode("a module"));
      const inputs = cidForBytes(new TextEncoder().encode("its inputs"));
      const now = BigInt(Math.floor(Date.now() / 1000));
      const ro = {
        provider: addr(f.provider),
        cpu: 4,
        memoryMb: 4096,
        gpu: 0,
        vramMb: 0,
        price: parseEther("3"),
        collateral: parseEther("5"),
        modules: [module],
        mediators: [],
        expiresAt: now + 3600n,
        nonce: 1n,
      };
      const jo = {
        jobCreator: addr(f.jobCreator),
        module,
        inputs,
        cpu: 1,
        memoryMb: 256,
        gpu: 0,
        vramMb: 0,
        maxPrice: parseEther("4"),
        policy: 0,
        policyParam: 0n,
        mediationFee: 0n,
        mediators: [],
        moduleCreator: "0x0000000000000000000000000000000000000000" as Address,
        royaltyBps: 0,
        timeoutSeconds: 3600n,
        expiresAt: now + 3600n,
        nonce: 1n,
      };
      const signedJob = { offer: jo, signature: await signRecord(f.jobCreator.account!, domain, "JobOffer", jo) };

      // Solver A knows no provider: the job offer waits there, bound to nothing.
      const atA = await a.postJobOffer({ body: signedJob });
      assert.equal(atA.status, "open");
      // The same signed job offer, sent to solver B, where the provider advertises.
      await b.postResourceOffer({ body: { offer: ro, signature: await signRecord(f.provider.account!, domain, "ResourceOffer", ro) } });
      const atB = await b.postJobOffer({ body: signedJob });
      assert.equal(atB.id, atA.id, "one job offer, whichever solver holds it");
      assert.equal(atB.status, "matched");
      const [proposed] = (await b.listDeals({ query: { jobCreator: addr(f.jobCreator) } })).deals.filter((d) => d.jobOfferId === atB.id);
      assert.ok(proposed, "solver B proposed a deal");
      for (const party of [f.jobCreator, f.provider]) {
        await b.signDeal({ params: { id: proposed.id }, body: { signer: addr(party), signature: await f.sign(party, proposed.deal) } });
      }
      const signed = await b.getDeal({ params: { id: proposed.id } });
      const b0 = await ledger(f);
      const { dealId: id } = await openDeal(f.provider, {
        deal: signed.deal,
        jobCreatorSig: signed.jobCreatorSignature!,
        providerSig: signed.providerSignature!,
      });
      assert.equal(id, hashRecord(domain, "Deal", signed.deal), "the deal carries no solver: its id is its terms'");
      await commitResult(f.provider, { deal: signed.deal, resultDigest: right });
      await assertEscrowMoved(f, b0, { jobCreator: -signed.deal.price, provider: signed.deal.price });
      assert.equal((await a.getJobOffer({ params: { id: atA.id } })).status, "open", "solver A had no part in it");
      assert.deepEqual((await a.listDeals({ query: {} })).deals, []);
    } finally {
      for (const s of solvers) await s.close();
    }
  });

  test("a deal both parties signed, with no solver at all, opens from an account that never saw a solver", async () => {
    const outsider = f.clientFor(testKey("an account that never saw a solver"));
    await fundAccount(f.deployer, { to: addr(outsider), eth: parseEther("1") });
    const signed = await f.newDeal(); // signed directly by the job creator and its chosen provider
    const extra = { outsider: addr(outsider), ...solverExtra };
    const b0 = await ledger(f, extra);
    await openDeal(outsider, signed);
    await commitResult(f.provider, { deal: signed.deal, resultDigest: right });
    await assertEscrowMoved(f, b0, { jobCreator: -signed.deal.price, provider: signed.deal.price }, extra);
  });
});

describe("a solver may NOT forge or alter a deal", () => {
  test("the solver opens a signed deal with altered terms, field by field: DealsInvalidSignature, nothing changes", async () => {
    const signed = await f.newDeal();
    const d = signed.deal;
    const s = addr(solverAccount);
    const alterations: Record<string, Partial<DealMessage>> = {
      "a higher price": { price: d.price * 2n },
      "a lower price": { price: d.price / 2n },
      "no collateral": { collateral: 0n },
      "a later deadline": { deadline: d.deadline + 3600n },
      "another job offer": { jobOffer: keccak256(toHex("another job")) },
      "another resource offer": { resourceOffer: keccak256(toHex("another offer")) },
      "another provider": { provider: addr(f.providers[1]!) },
      "another job creator": { jobCreator: addr(f.stranger) },
      "a royalty to the solver": { moduleCreator: s, royaltyBps: 1000 },
      "a mediation fee": { mediationFee: 1n },
      "another policy parameter": { policyParam: 1n },
    };
    const b = await ledger(f, solverExtra);
    for (const [what, change] of Object.entries(alterations)) {
      const altered = { ...d, ...change };
      const e = await rejectsWith(openDeal(solverAccount, { ...signed, deal: altered }), "CHAIN_REVERT", "DealsInvalidSignature");
      assert.equal(e.field, "signature", what);
      assert.equal(await dealState(f.deployer, { dealId: dealId(f.addresses, altered) }), "none", what);
    }
    await assertUnchanged(f, b, solverExtra);
    await openDeal(solverAccount, signed); // the terms as signed still open
  });

  test("the solver proposes altered terms: the job creator's checkDeal and the provider's checkProposal refuse to sign them", async () => {
    const { store, close } = await startTestStore();
    try {
      const cowsay = loadCatalog().find((m) => m.ref === "cowsay@1.0.0")!;
      const module = await store.putRecordBytes(cowsay.manifestBytes);
      const inputs = await store.putRecord({ message: "moo" });
      const honest = await proposal(f, { module, inputs });
      await providerChecks(f, honest, store); // the control
      const me = addr(f.provider);
      const raised = { ...honest.deal, price: honest.deal.price + 1n };
      const diverted = { ...honest.deal, moduleCreator: addr(solverAccount), royaltyBps: 500 };
      for (const [deal, field] of [
        [raised, "deal.price"],
        [diverted, "deal.moduleCreator"],
      ] as const) {
        const byJc = await rejectsWith(checkDeal(f.deployer.domain, deal, honest.job, honest.resource, honest.now), "CONFLICT");
        assert.equal(byJc.field, field);
        const record = { ...honest.record, deal, id: dealId(f.addresses, deal) };
        const byRp = await rejectsWith(providerChecks(f, honest, store, { record, me }), "CONFLICT");
        assert.equal(byRp.field, field);
      }
    } finally {
      await close();
    }
  });

  test("the solver opens one signed deal twice: DealsAlreadyOpened, the parties are charged once", async () => {
    const signed = await f.newDeal();
    const b0 = await ledger(f, solverExtra);
    const { dealId: id } = await openDeal(solverAccount, signed);
    const b1 = await ledger(f, solverExtra);
    const e = await rejectsWith(openDeal(solverAccount, signed), "CHAIN_REVERT", "DealsAlreadyOpened");
    assert.deepEqual(e.details.args, { dealId: id });
    await assertUnchanged(f, b1, solverExtra);
    await assertEscrowMoved(
      f,
      b0,
      { jobCreator: -signed.deal.price, provider: -signed.deal.collateral, totalLocked: signed.deal.price + signed.deal.collateral },
      solverExtra,
    );
  });

  test("the solver replays the parties' signatures on another deployment: invalid there, nothing changes on either", async () => {
    const other = await deployLily({ rpcUrl: f.anvil.rpcUrl, deployerKey: devAccounts[0]!, supply: SUPPLY });
    // The fixture's deployer, job creator and provider are anvil's dev accounts 0, 1 and 2.
    const [deployer2, jc2, rp2] = [0, 1, 2].map((i) => f.clientFor(devAccounts[i]!, other));
    // The same parties hold escrow on the other deployment too, so only the signatures can fail.
    for (const party of [jc2, rp2]) {
      await fundAccount(deployer2, { to: addr(party), tokens: FUNDED });
      await deposit(party, { amount: DEPOSITED });
    }
    const signed = await f.newDeal();
    const otherBalances = async () => [await escrowBalance(jc2), await escrowBalance(rp2), await escrowBalance(deployer2, { account: other.deals })];
    const before2 = await otherBalances();
    const b = await ledger(f, solverExtra);
    const replayer = f.clientFor(testKey("the solver"), other);
    const e = await rejectsWith(openDeal(replayer, signed), "CHAIN_REVERT", "DealsInvalidSignature");
    assert.deepEqual(e.details.args, { signer: addr(f.jobCreator) });
    assert.deepEqual(await otherBalances(), before2);
    assert.equal(await dealState(deployer2, { dealId: dealId(other, signed.deal) }), "none");
    await assertUnchanged(f, b, solverExtra);

    // And the other way round: signatures made for the other deployment do not open here.
    const there: SignedDeal = { deal: signed.deal, jobCreatorSig: await f.sign(jc2, signed.deal), providerSig: await f.sign(rp2, signed.deal) };
    await rejectsWith(openDeal(solverAccount, there), "CHAIN_REVERT", "DealsInvalidSignature");
    await openDeal(replayer, there); // where they were made for, they open
    await assertUnchanged(f, b, solverExtra);
  });

  test("the solver squats a deal id before the parties open it: no signatures but both parties' over those exact terms open it", async () => {
    const signed = await f.newDeal();
    const id = dealId(f.addresses, signed.deal);
    const b0 = await ledger(f, solverExtra);
    const own = await f.sign(solverAccount, signed.deal);
    const attempts: Record<string, SignedDeal> = {
      "its own signature for both parties": { ...signed, jobCreatorSig: own, providerSig: own },
      "the job creator's signature and its own for the provider": { ...signed, providerSig: own },
      "the provider's signature and its own for the job creator": { ...signed, jobCreatorSig: own },
      "the job creator's signature twice": { ...signed, providerSig: signed.jobCreatorSig },
      "empty signatures": { ...signed, jobCreatorSig: "0x", providerSig: "0x" },
      "65 zero bytes": { ...signed, jobCreatorSig: `0x${"00".repeat(65)}`, providerSig: `0x${"00".repeat(65)}` },
    };
    for (const [what, attempt] of Object.entries(attempts)) {
      await rejectsWith(openDeal(solverAccount, attempt), "CHAIN_REVERT", "DealsInvalidSignature").catch((e) => {
        throw new Error(`${what}: ${e.message}`);
      });
    }
    assert.equal(await dealState(f.deployer, { dealId: id }), "none", "the id is not taken");
    await assertUnchanged(f, b0, solverExtra);
    // With both signatures, whoever submits it opens exactly the deal the parties signed, paying
    // only gas: the solver's balances do not move, the parties' move as they signed.
    await openDeal(solverAccount, signed);
    await assertEscrowMoved(
      f,
      b0,
      { jobCreator: -signed.deal.price, provider: -signed.deal.collateral, totalLocked: signed.deal.price + signed.deal.collateral },
      solverExtra,
    );
  });
});

describe("a solver may NOT move funds", () => {
  test("the solver's own key calls every fund-moving function on others' deals and escrow: refused, or nothing moves to it", async () => {
    const trust = await f.newDeal({ deadlineIn: 600 });
    const optimistic = await f.newDeal(f.policyTerms("optimistic", 300n));
    const challenged = await f.newDeal(f.policyTerms("optimistic", 300n));
    for (const s of [trust, optimistic, challenged]) await f.open(s);
    await commitResult(f.provider, { deal: optimistic.deal, resultDigest: right });
    await commitResult(f.provider, { deal: challenged.deal, resultDigest: right });
    await challenge(f.jobCreator, { deal: challenged.deal });
    await f.mine(2);

    const s = solverAccount;
    const b = await ledger(f, solverExtra);
    await rejectsWith(withdraw(s, { amount: 1n }), "INSUFFICIENT_DEPOSIT", "EscrowInsufficientBalance");
    await rejectsWith(commitResult(s, { deal: trust.deal, resultDigest: right }), "CHAIN_REVERT", "DealsNotProvider");
    await rejectsWith(claimTimeout(s, { deal: trust.deal }), "CHAIN_REVERT", "DealsDeadlineNotPassed");
    await rejectsWith(challenge(s, { deal: optimistic.deal }), "CHAIN_REVERT", "DealsNotJobCreator");
    await rejectsWith(finalize(s, { deal: optimistic.deal }), "CHAIN_REVERT", "DealsChallengeWindowOpen");
    await rejectsWith(
      rule(s, { deal: challenged.deal, mediators: f.mediatorSet, providerCorrect: false, comparator: "exact" }),
      "CHAIN_REVERT",
      "DealsNotMediator",
    );
    // Nor through the token: nobody approved the solver, not the parties, not the deals contract.
    const transferFrom = (from: Address) =>
      withLilyErrors(async () => {
        const hash = await s.walletClient!.writeContract({
          address: f.addresses.token,
          abi: lilyTokenAbi,
          functionName: "transferFrom",
          args: [from, addr(s), 1n],
        });
        await s.publicClient.waitForTransactionReceipt({ hash });
      });
    for (const from of [addr(f.jobCreator), f.addresses.deals]) {
      const e = await rejectsWith(transferFrom(from), "CHAIN_REVERT", "ERC20InsufficientAllowance");
      assert.equal((e.details.args as Record<string, string>).spender, addr(s));
    }
    await assertUnchanged(f, b, solverExtra);

    // Where anyone may act (a closed window, a passed deadline), the solver's call pays the
    // parties by the rules and nothing to itself.
    await f.increaseTime(601);
    const b1 = await ledger(f, solverExtra);
    await finalize(s, { deal: optimistic.deal });
    await claimTimeout(s, { deal: trust.deal });
    const { price, collateral, mediationFee } = optimistic.deal;
    const royalty = price / 10n;
    await assertEscrowMoved(
      f,
      b1,
      {
        jobCreator: mediationFee + (trust.deal.price + trust.deal.collateral),
        provider: price - royalty + collateral,
        moduleCreator: royalty,
        totalLocked: -(price + mediationFee + collateral) - (trust.deal.price + trust.deal.collateral),
      },
      solverExtra,
    );
    assert.equal(await escrowBalance(s), 0n);
  });
});
