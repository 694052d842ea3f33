import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { parseEther } from "viem";
import { createLilyClient, deposit, escrowBalance, lilyTokenAbi, openDeal, tokenBalance, totalLocked, withdraw } from "../src/index.ts";
import { DEPOSITED, FUNDED, rejectsWith, startFixture, type Fixture } from "./fixture.ts";

let f: Fixture;
before(async () => (f = await startFixture()));
after(() => f.stop());

describe("escrow", () => {
  test("a deposit approves the deals contract for the amount, then moves the tokens in", async () => {
    const wallet0 = await tokenBalance(f.stranger);
    const first = await deposit(f.stranger, { amount: parseEther("2") });
    assert.ok(first.approval, "the first deposit approves");
    assert.equal(await escrowBalance(f.stranger), DEPOSITED + parseEther("2"));
    assert.equal(await tokenBalance(f.stranger), wallet0 - parseEther("2"));
  });

  test("a withdrawal returns free tokens to the wallet", async () => {
    const wallet0 = await tokenBalance(f.stranger);
    const escrow0 = await escrowBalance(f.stranger);
    await withdraw(f.stranger, { amount: parseEther("2") });
    assert.equal(await tokenBalance(f.stranger), wallet0 + parseEther("2"));
    assert.equal(await escrowBalance(f.stranger), escrow0 - parseEther("2"));
  });

  test("funds locked in an open deal cannot be withdrawn", async () => {
    const signed = await f.newDeal({ price: parseEther("40") });
    await openDeal(f.provider, signed);
    assert.equal(await escrowBalance(f.jobCreator), DEPOSITED - parseEther("40"));
    assert.equal(await totalLocked(f.jobCreator), parseEther("40") + signed.deal.collateral);

    const before = await f.snapshot(signed.deal);
    const e = await rejectsWith(withdraw(f.jobCreator, { amount: DEPOSITED }), "INSUFFICIENT_DEPOSIT", "EscrowInsufficientBalance");
    assert.equal(e.field, "deposit");
    assert.deepEqual(e.details.args, {
      account: f.jobCreator.account!.address,
      balance: (DEPOSITED - parseEther("40")).toString(),
      needed: DEPOSITED.toString(),
    });
    assert.deepEqual(await f.snapshot(signed.deal), before);

    // What is free still comes out.
    await withdraw(f.jobCreator, { amount: DEPOSITED - parseEther("40") });
    assert.equal(await escrowBalance(f.jobCreator), 0n);
  });

  test("zero amounts are rejected, naming the amount", async () => {
    const before = await f.snapshot();
    for (const action of [deposit, withdraw]) {
      const e = await rejectsWith(action(f.stranger, { amount: 0n }), "CHAIN_REVERT", "EscrowZeroAmount");
      assert.equal(e.field, "amount");
    }
    assert.deepEqual(await f.snapshot(), before);
  });

  test("depositing more than the wallet holds is rejected before anything is sent", async () => {
    const allowance = () =>
      f.deployer.publicClient.readContract({
        address: f.addresses.token,
        abi: lilyTokenAbi,
        functionName: "allowance",
        args: [f.stranger.account!.address, f.addresses.deals],
      });
    const before = { ...(await f.snapshot()), allowance: await allowance() };
    const e = await rejectsWith(deposit(f.stranger, { amount: FUNDED * 2n }), "INVALID_INPUT");
    assert.equal(e.field, "amount");
    assert.match(e.message, /holds [\d.]+ LILY, less than the 2000 LILY to deposit/);
    assert.deepEqual({ ...(await f.snapshot()), allowance: await allowance() }, before);
  });

  test("a client without an account can read but not send", async () => {
    const reader = createLilyClient({ rpcUrl: f.anvil.rpcUrl, addresses: f.addresses });
    assert.equal(await escrowBalance(reader, { account: f.provider.account!.address }), await escrowBalance(f.provider));
    await rejectsWith(withdraw(reader, { amount: 1n }), "CONFIG");
    await rejectsWith(escrowBalance(reader), "CONFIG");
  });
});
