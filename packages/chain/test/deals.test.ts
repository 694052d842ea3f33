import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { keccak256, toHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { hashRecord, signRecord, type ErrorCode } from "@lily/protocol";
import {
  claimTimeout,
  commitResult,
  deployLily,
  devAccounts,
  dealId,
  dealState,
  escrowBalance,
  getDealEvents,
  lilyDealsAbi,
  lilyTokenAbi,
  openDeal,
  tokenBalance,
  totalLocked,
  withdraw,
  type LilyClient,
} from "../src/index.ts";
import { DEPOSITED, FUNDED, SUPPLY, rejectsWith, startFixture, type Fixture, type SignedDeal } from "./fixture.ts";
import { deployWallet, WALLET_DEPOSIT } from "./wallet.ts";

let f: Fixture;
before(async () => (f = await startFixture()));
after(() => f.stop());

const resultDigest = keccak256(toHex("the result record"));

/** Every free balance plus everything locked must be exactly what the contract holds. */
async function assertEscrowSolvent(client: LilyClient) {
  let free = 0n;
  for (const account of f.depositors) free += await escrowBalance(client, { account });
  assert.equal(await tokenBalance(client, { account: f.addresses.deals }), free + (await totalLocked(client)));
}

describe("a deal's id", () => {
  test("is the protocol's EIP-712 hash of the deal, computed the same way by the contract", async () => {
    const { deal } = await f.newDeal({ policyParam: 7n, price: 123n, collateral: 456n });
    const onChain = await f.deployer.publicClient.readContract({
      address: f.addresses.deals,
      abi: lilyDealsAbi,
      functionName: "hashDeal",
      args: [deal],
    });
    assert.equal(onChain, hashRecord({ chainId: f.anvil.chainId, verifyingContract: f.addresses.deals }, "Deal", deal));
    assert.equal(onChain, dealId(f.addresses, deal));
  });
});

describe("a trusted deal whose result is committed in time", () => {
  test("pays the provider the price, returns its collateral, and conserves every token", async () => {
    const signed = await f.newDeal();
    const { price, collateral } = signed.deal;
    const id = dealId(f.addresses, signed.deal);
    assert.equal(await dealState(f.deployer, { dealId: id }), "none");

    // Anyone may submit the signed deal; here a stranger pays the gas.
    const opened = await openDeal(f.stranger, signed);
    assert.equal(opened.dealId, id);
    assert.equal(await dealState(f.deployer, { dealId: id }), "open");
    assert.equal(await escrowBalance(f.jobCreator), DEPOSITED - price);
    assert.equal(await escrowBalance(f.provider), DEPOSITED - collateral);
    assert.equal(await totalLocked(f.deployer), price + collateral);
    await assertEscrowSolvent(f.deployer);

    const committed = await commitResult(f.provider, { deal: signed.deal, resultDigest });
    assert.equal(committed.settled, true);
    assert.equal(await dealState(f.deployer, { dealId: id }), "settled");
    assert.equal(await escrowBalance(f.jobCreator), DEPOSITED - price);
    assert.equal(await escrowBalance(f.provider), DEPOSITED + price);
    assert.equal(await totalLocked(f.deployer), 0n);
    await assertEscrowSolvent(f.deployer);

    // Withdrawing takes the earnings out to the wallet.
    const before = await tokenBalance(f.provider);
    await withdraw(f.provider, { amount: price });
    assert.equal(await tokenBalance(f.provider), before + price);
    assert.equal(await escrowBalance(f.provider), DEPOSITED);
    const supply = await f.deployer.publicClient.readContract({ address: f.addresses.token, abi: lilyTokenAbi, functionName: "totalSupply" });
    assert.equal(supply, SUPPLY);
    await assertEscrowSolvent(f.deployer);
  });

  test("leaves a history of opened, committed and settled, with the transactions and their gas", async () => {
    const signed = await f.newDeal();
    const opened = await openDeal(f.provider, signed);
    const committed = await commitResult(f.provider, { deal: signed.deal, resultDigest });
    const events = await getDealEvents(f.deployer, { dealId: opened.dealId });
    assert.deepEqual(
      events.map((e) => [e.name, e.txHash, e.gasUsed]),
      [
        ["DealOpened", opened.txHash, opened.gasUsed],
        ["ResultCommitted", committed.txHash, committed.gasUsed],
        ["DealSettled", committed.txHash, committed.gasUsed],
      ],
    );
    const [o, c, s] = events;
    assert.ok(o.name === "DealOpened" && c.name === "ResultCommitted" && s.name === "DealSettled");
    assert.equal(o.args.price, signed.deal.price);
    assert.equal(c.args.resultDigest, resultDigest);
    assert.deepEqual([s.args.paid, s.args.collateralReturned], [signed.deal.price, signed.deal.collateral]);
  });

  test("accepts a job creator that is a smart-contract wallet (ERC-1271)", async () => {
    const owner = privateKeyToAccount(devAccounts[4]);
    const wallet = await deployWallet(f, owner);
    const signed = await f.newDeal({ jobCreator: wallet });
    // The wallet's owner signs the deal digest; the wallet vouches for it through isValidSignature.
    signed.jobCreatorSig = await signRecord(owner, f.deployer.domain, "Deal", signed.deal);
    const { dealId: id } = await openDeal(f.provider, signed);
    assert.equal(await dealState(f.deployer, { dealId: id }), "open");
    assert.equal(await escrowBalance(f.deployer, { account: wallet }), WALLET_DEPOSIT - signed.deal.price);

    // REJECT: a signature the wallet does not vouch for.
    const forged = await f.newDeal({ jobCreator: wallet });
    await rejectsWith(openDeal(f.provider, { ...forged, jobCreatorSig: await f.sign(f.stranger, forged.deal) }), "CHAIN_REVERT", "DealsInvalidSignature");
  });
});

describe("a deal whose provider stays silent past the deadline", () => {
  test("refunds the job creator's price and hands it the provider's collateral", async () => {
    const signed = await f.newDeal({ deadlineIn: 60 });
    const { price, collateral } = signed.deal;
    const jc0 = await escrowBalance(f.jobCreator);
    const rp0 = await escrowBalance(f.provider);
    const locked0 = await totalLocked(f.deployer);
    const { dealId: id } = await openDeal(f.jobCreator, signed);

    const before = await f.snapshot(signed.deal);
    await rejectsWith(claimTimeout(f.stranger, { deal: signed.deal }), "CHAIN_REVERT", "DealsDeadlineNotPassed");
    assert.deepEqual(await f.snapshot(signed.deal), before);
    await f.increaseTime(61);
    // Anyone may close it; the money goes to the job creator all the same.
    const closed = await claimTimeout(f.stranger, { deal: signed.deal });
    assert.equal(closed.dealId, id);
    assert.equal(await dealState(f.deployer, { dealId: id }), "timedOut");
    assert.equal(await escrowBalance(f.jobCreator), jc0 + collateral);
    assert.equal(await escrowBalance(f.provider), rp0 - collateral);
    assert.equal(await totalLocked(f.deployer), locked0);
    await assertEscrowSolvent(f.deployer);

    const events = await getDealEvents(f.deployer, { dealId: id });
    assert.deepEqual(
      events.map((e) => e.name),
      ["DealOpened", "DealTimedOut"],
    );
    const timedOut = events[1];
    assert.ok(timedOut.name === "DealTimedOut");
    assert.deepEqual([timedOut.args.refunded, timedOut.args.slashed], [price, collateral]);

    // REJECT: the provider cannot commit late, and the deal cannot time out twice.
    await rejectsWith(commitResult(f.provider, { deal: signed.deal, resultDigest }), "CHAIN_REVERT", "DealsNotOpen");
    await rejectsWith(claimTimeout(f.stranger, { deal: signed.deal }), "CHAIN_REVERT", "DealsNotOpen");
  });
});

describe("openDeal rejects, and changes nothing, when", () => {
  const cases: { when: string; code: ErrorCode; error: string; make: () => Promise<SignedDeal> }[] = [
    {
      when: "the terms were altered after signing",
      code: "CHAIN_REVERT",
      error: "DealsInvalidSignature",
      make: async () => {
        const signed = await f.newDeal();
        return { ...signed, deal: { ...signed.deal, price: signed.deal.price / 2n } };
      },
    },
    {
      when: "the provider's signature is by someone else",
      code: "CHAIN_REVERT",
      error: "DealsInvalidSignature",
      make: async () => {
        const signed = await f.newDeal();
        return { ...signed, providerSig: await f.sign(f.stranger, signed.deal) };
      },
    },
    {
      when: "the signatures were made for another deployment (a replay)",
      code: "CHAIN_REVERT",
      error: "DealsInvalidSignature",
      make: async () => {
        const other = await deployLily({ rpcUrl: f.anvil.rpcUrl, deployerKey: devAccounts[0], supply: SUPPLY });
        const signed = await f.newDeal();
        const jc = f.clientFor(devAccounts[1], other);
        const rp = f.clientFor(devAccounts[2], other);
        return { deal: signed.deal, jobCreatorSig: await f.sign(jc, signed.deal), providerSig: await f.sign(rp, signed.deal) };
      },
    },
    {
      when: "the deal was already opened",
      code: "CHAIN_REVERT",
      error: "DealsAlreadyOpened",
      make: async () => {
        const signed = await f.newDeal();
        await openDeal(f.provider, signed);
        return signed;
      },
    },
    {
      when: "its verification policy is unknown to the contract",
      code: "CHAIN_REVERT",
      error: "DealsUnsupportedPolicy",
      make: () => f.newDeal({ policy: 9 }),
    },
    {
      when: "its deadline has passed (and so has its openBy)",
      code: "DEADLINE_PASSED",
      error: "DealsOpenByPassed",
      make: () => f.newDeal({ deadlineIn: -1 }),
    },
    {
      when: "the time its parties gave for opening (openBy) has passed, though its deadline has not",
      code: "DEADLINE_PASSED",
      error: "DealsOpenByPassed",
      make: async () => {
        const now = (await f.deployer.publicClient.getBlock()).timestamp;
        return f.newDeal({ openBy: now - 1n, deadlineIn: 3600 });
      },
    },
    {
      when: "its deadline is not after its openBy",
      code: "INVALID_INPUT",
      error: "DealsDeadlineNotAfterOpenBy",
      make: async () => {
        const now = (await f.deployer.publicClient.getBlock()).timestamp;
        return f.newDeal({ openBy: now + 600n, deadlineIn: 600 });
      },
    },
    {
      when: "a trust deal names a replica group",
      code: "INVALID_INPUT",
      error: "DealsUnexpectedReplicas",
      make: () => f.newDeal({ replicas: `0x${"ab".repeat(32)}` }),
    },
    {
      when: "the job creator's free balance is below the price",
      code: "INSUFFICIENT_DEPOSIT",
      error: "EscrowInsufficientBalance",
      make: () => f.newDeal({ price: FUNDED }),
    },
    {
      when: "the provider's free balance is below the collateral",
      code: "INSUFFICIENT_DEPOSIT",
      error: "EscrowInsufficientBalance",
      make: () => f.newDeal({ collateral: DEPOSITED + 1n }),
    },
  ];

  for (const { when, code, error, make } of cases) {
    test(when, async () => {
      const signed = await make();
      const before = await f.snapshot(signed.deal);
      await rejectsWith(openDeal(f.stranger, signed), code, error);
      assert.deepEqual(await f.snapshot(signed.deal), before);
    });
  }

  test("an insufficient deposit error names the field, the balance and what is needed", async () => {
    const signed = await f.newDeal({ price: FUNDED });
    const free = await escrowBalance(f.jobCreator);
    const e = await rejectsWith(openDeal(f.stranger, signed), "INSUFFICIENT_DEPOSIT");
    assert.equal(e.field, "deposit");
    assert.deepEqual(e.details.args, { account: f.jobCreator.account!.address, balance: free.toString(), needed: FUNDED.toString() });
    assert.match(e.message, /has [\d.]+ LILY free in escrow but 1000 LILY is needed/);
  });
});

describe("commitResult rejects, and changes nothing, when", () => {
  test("the caller is not the deal's provider", async () => {
    const signed = await f.newDeal();
    await openDeal(f.provider, signed);
    const before = await f.snapshot(signed.deal);
    for (const caller of [f.jobCreator, f.stranger]) {
      await rejectsWith(commitResult(caller, { deal: signed.deal, resultDigest }), "CHAIN_REVERT", "DealsNotProvider");
    }
    assert.deepEqual(await f.snapshot(signed.deal), before);
  });

  test("the deadline has passed", async () => {
    const signed = await f.newDeal({ deadlineIn: 30 });
    await openDeal(f.provider, signed);
    await f.increaseTime(31);
    const before = await f.snapshot(signed.deal);
    await rejectsWith(commitResult(f.provider, { deal: signed.deal, resultDigest }), "DEADLINE_PASSED", "DealsDeadlinePassed");
    assert.deepEqual(await f.snapshot(signed.deal), before);
    await claimTimeout(f.jobCreator, { deal: signed.deal }); // leave nothing locked for later tests
  });

  test("the deal was never opened, or has already settled", async () => {
    const signed = await f.newDeal();
    await rejectsWith(commitResult(f.provider, { deal: signed.deal, resultDigest }), "CHAIN_REVERT", "DealsNotOpen");
    await openDeal(f.provider, signed);
    await commitResult(f.provider, { deal: signed.deal, resultDigest });
    const before = await f.snapshot(signed.deal);
    await rejectsWith(commitResult(f.provider, { deal: signed.deal, resultDigest }), "CHAIN_REVERT", "DealsNotOpen");
    assert.deepEqual(await f.snapshot(signed.deal), before);
  });

  test("the terms differ from the opened deal's", async () => {
    const signed = await f.newDeal();
    await openDeal(f.provider, signed);
    const before = await f.snapshot(signed.deal);
    const inflated = { ...signed.deal, price: signed.deal.price * 2n };
    await rejectsWith(commitResult(f.provider, { deal: inflated, resultDigest }), "CHAIN_REVERT", "DealsNotOpen");
    assert.deepEqual(await f.snapshot(signed.deal), before);
  });
});
