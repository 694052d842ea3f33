// Authority map, inference leases (contracts/LilyLeases.sol): each party to a lease misbehaves
// against the real contract and the honest ones lose nothing. The payer (a gateway) may NOT take
// back the budget while the lease is open; the provider may NOT claim more than the payer's latest
// voucher, nor with a voucher for another lease or a forged one, nor twice, nor escape an audit by
// closing; nobody but the provider closes; nobody but the mediator both parties named slashes,
// and only over a receipt the provider signed for this lease; a silent provider lets the payer
// reclaim; and an honest payer and provider end with exactly what the rules give them. After
// every step the LilyLeases ledger (escrow, wallets, totalLocked, what it holds) is checked.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { keccak256, parseEther, toHex, type Hex } from "viem";
import type { LeaseMessage } from "@lily/protocol";
import {
  closeLease,
  escrowBalance,
  leaseRecord,
  lilyLeasesAbi,
  reclaimLease,
  releaseLeaseCollateral,
  slashLease,
  tokenBalance,
  withdraw,
  type LilyClient,
} from "../../packages/chain/src/index.ts";
import { rejectsWith } from "../../packages/chain/test/fixture.ts";
import { startLeaseFixture, type LeaseFixture, type SignedLease } from "../../packages/chain/test/leasesFixture.ts";
import { OPCODE, addr, opcodes, writeFunctions } from "./helpers.ts";

let x: LeaseFixture;
/** Every lease this file opens; the last test ends them all and empties the contract. */
const opened: SignedLease[] = [];
before(async () => (x = await startLeaseFixture()));
after(() => x.f.stop());

async function openNew(terms: Partial<LeaseMessage> = {}): Promise<SignedLease> {
  const signed = await x.newLease(terms);
  await x.open(signed);
  opened.push(signed);
  return signed;
}

/** Close with the payer's voucher for `amount` over `requests` answers. */
async function close(signed: SignedLease, amount: bigint, requests: bigint, by: LilyClient = x.provider, voucherSignature?: Hex) {
  return closeLease(by, { lease: signed.lease, amount, requests, voucherSignature: voucherSignature ?? (await x.voucher(signed.lease, amount, requests)) });
}

describe("payer (the gateway)", () => {
  test("cannot take back the budget while the lease is open: no withdrawal, reclaim, close, release or slash of it", async () => {
    const signed = await openNew();
    const b = await x.ledger();
    const free = b.payer!;
    await rejectsWith(withdraw(x.payer, { amount: free + 1n, escrow: x.leases }), "INSUFFICIENT_DEPOSIT", "EscrowInsufficientBalance");
    await rejectsWith(reclaimLease(x.payer, signed), "CHAIN_REVERT", "LeasesClaimWindowOpen");
    await rejectsWith(closeLease(x.payer, { lease: signed.lease, amount: 0n, requests: 0n }), "CHAIN_REVERT", "LeasesNotProvider");
    await rejectsWith(releaseLeaseCollateral(x.payer, signed), "CHAIN_REVERT", "LeasesNotEnded");
    await rejectsWith(slashLease(x.payer, { lease: signed.lease, ...(await x.receipt(signed.lease, 1n)) }), "CHAIN_REVERT", "LeasesNotMediator");
    // Not even at the very end of the claim window.
    await x.timeTo(signed.lease, x.claimWindow - 30n);
    await rejectsWith(reclaimLease(x.payer, signed), "CHAIN_REVERT", "LeasesClaimWindowOpen");
    await x.assertMoved(b, {});
    // The provider, which served, is paid its voucher in the claim window.
    await close(signed, parseEther("2"), 20n);
    await x.assertMoved(b, { provider: parseEther("1.8"), modelCreator: parseEther("0.2"), payer: parseEther("8"), totalLocked: -parseEther("10") });
  });
});

describe("provider", () => {
  test("cannot claim more than the payer's latest voucher, nor with a voucher for another lease or a forged one, nor close twice", async () => {
    const signed = await openNew();
    const other = await openNew();
    const vouchers = [
      { amount: parseEther("1"), requests: 10n },
      { amount: parseEther("2.5"), requests: 25n },
    ];
    const latest = vouchers[1]!;
    const latestSig = await x.voucher(signed.lease, latest.amount, latest.requests);
    const b = await x.ledger();
    const attempts: [string, bigint, bigint, Hex][] = [
      ["more than the latest voucher, with its signature", latest.amount + 1n, latest.requests, latestSig],
      ["the whole budget, with the latest voucher's signature", signed.lease.budget, latest.requests, latestSig],
      ["with a voucher for another lease", latest.amount, latest.requests, await x.voucher(other.lease, latest.amount, latest.requests)],
      ["with a voucher it signed itself", signed.lease.budget, 1n, await x.voucher(signed.lease, signed.lease.budget, 1n, x.provider)],
      ["with a voucher a stranger signed", signed.lease.budget, 1n, await x.voucher(signed.lease, signed.lease.budget, 1n, x.stranger)],
      ["with a voucher the mediator signed", signed.lease.budget, 1n, await x.voucher(signed.lease, signed.lease.budget, 1n, x.mediator)],
      ["with a signature the payer made over the lease, not a voucher", latest.amount, latest.requests, signed.payerSignature],
    ];
    for (const [what, amount, requests, sig] of attempts) {
      const e = await rejectsWith(close(signed, amount, requests, x.provider, sig), "BAD_SIGNATURE", "LeasesInvalidSignature");
      assert.equal((e.details.args as Record<string, string>).signer, addr(x.payer), what);
    }
    await x.assertMoved(b, {});
    await close(signed, latest.amount, latest.requests, x.provider, latestSig);
    await x.assertMoved(b, { provider: parseEther("2.25"), modelCreator: parseEther("0.25"), payer: parseEther("7.5"), totalLocked: -parseEther("10") });
    const b2 = await x.ledger();
    await rejectsWith(close(signed, latest.amount, latest.requests, x.provider, latestSig), "CHAIN_REVERT", "LeasesNotOpen");
    await rejectsWith(close(signed, vouchers[0]!.amount, vouchers[0]!.requests), "CHAIN_REVERT", "LeasesNotOpen");
    await x.assertMoved(b2, {});
    await close(other, 0n, 0n);
  });

  test("cannot escape an audit by closing: the collateral stays locked, and the mediator slashes it after the close", async () => {
    const signed = await openNew();
    // The cheat serves a made-up answer, signs its receipt, and closes at once.
    const wrong = await x.receipt(signed.lease, 1n, { receipt: { response: keccak256(toHex("a made-up answer")) } });
    const b = await x.ledger();
    await close(signed, parseEther("1"), 1n);
    const closed = await x.ledger();
    assert.equal(closed.provider, b.provider! + parseEther("0.9"), "paid for its answer, not its collateral");
    await rejectsWith(releaseLeaseCollateral(x.provider, signed), "CHAIN_REVERT", "LeasesAuditWindowOpen");
    await rejectsWith(withdraw(x.provider, { amount: closed.provider! + 1n, escrow: x.leases }), "INSUFFICIENT_DEPOSIT", "EscrowInsufficientBalance");
    await x.assertMoved(closed, {});
    // Late in the audit window the mediator, having re-run the request, slashes.
    await x.timeTo(signed.lease, x.auditWindow - 30n);
    await slashLease(x.mediator, { lease: signed.lease, ...wrong });
    await x.assertMoved(closed, { mediator: parseEther("1"), payer: parseEther("4"), totalLocked: -parseEther("5") });
    assert.equal((await leaseRecord(x.f.deployer, { leaseId: signed.id })).collateral, "slashed");
  });

  test("a silent provider lets the payer reclaim its whole budget after the claim window, and is still auditable", async () => {
    const silent = await openNew();
    // Same expiry, so one move of the clock passes both windows.
    const cheat = await openNew({ expiresAt: silent.lease.expiresAt });
    const bad = await x.receipt(cheat.lease, 4n);
    await x.timeTo(silent.lease, x.claimWindow + 1n);
    const b = await x.ledger();
    await reclaimLease(x.stranger, silent);
    await reclaimLease(x.payer, cheat);
    await x.assertMoved(b, { payer: parseEther("20"), totalLocked: -parseEther("20") });
    await slashLease(x.mediator, { lease: cheat.lease, ...bad });
    await x.timeTo(silent.lease, x.auditWindow + 1n);
    await releaseLeaseCollateral(x.stranger, silent);
    // The silent provider was not proven wrong: it gets its collateral back, and nothing else.
    await x.assertMoved(b, { payer: parseEther("24"), mediator: parseEther("1"), provider: parseEther("5"), totalLocked: -parseEther("30") });
  });
});

describe("anyone but the provider, and anyone but the named mediator", () => {
  test("nobody but the provider closes a lease, even with the payer's real voucher", async () => {
    const signed = await openNew();
    const amount = parseEther("3");
    const sig = await x.voucher(signed.lease, amount, 30n);
    const b = await x.ledger();
    for (const who of [x.payer, x.stranger, x.mediator, x.provider2, x.modelCreator, x.f.deployer]) {
      await rejectsWith(close(signed, amount, 30n, who, sig), "CHAIN_REVERT", "LeasesNotProvider");
    }
    await x.assertMoved(b, {});
    await close(signed, amount, 30n, x.provider, sig);
  });

  test("nobody but the named mediator slashes, and only over a receipt the provider signed for this lease", async () => {
    const signed = await openNew();
    const other = await openNew();
    const real = await x.receipt(signed.lease, 2n);
    const b = await x.ledger();
    for (const who of [x.payer, x.provider, x.stranger, x.mediator2, x.provider2, x.f.deployer]) {
      await rejectsWith(slashLease(who, { lease: signed.lease, ...real }), "CHAIN_REVERT", "LeasesNotMediator");
    }
    // The mediator cannot make evidence up: a receipt the payer (or the mediator) signed, an
    // answer altered after signing, or the provider's real receipt from another lease.
    for (const signer of [x.payer, x.mediator, x.stranger]) {
      await rejectsWith(
        slashLease(x.mediator, { lease: signed.lease, ...(await x.receipt(signed.lease, 2n, { signer })) }),
        "BAD_SIGNATURE",
        "LeasesInvalidSignature",
      );
    }
    const altered = { receipt: { ...real.receipt, outputTokens: real.receipt.outputTokens + 1 }, providerSignature: real.providerSignature };
    await rejectsWith(slashLease(x.mediator, { lease: signed.lease, ...altered }), "BAD_SIGNATURE", "LeasesInvalidSignature");
    await rejectsWith(slashLease(x.mediator, { lease: signed.lease, ...(await x.receipt(other.lease, 2n)) }), "INVALID_INPUT", "LeasesReceiptMismatch");
    await x.assertMoved(b, {});
    await slashLease(x.mediator, { lease: signed.lease, ...real });
    await x.assertMoved(b, { mediator: parseEther("1"), payer: parseEther("4"), totalLocked: -parseEther("5") });
    await rejectsWith(slashLease(x.mediator, { lease: signed.lease, ...real }), "CHAIN_REVERT", "LeasesCollateralNotLocked");
    for (const s of [signed, other]) await close(s, 0n, 0n);
  });
});

describe("honest parties", () => {
  test("an honest provider that closes in time and an honest payer lose nothing: each ends with exactly its due", async () => {
    const signed = await openNew();
    const b = await x.ledger();
    // 1,000 answers, each paid by a cumulative voucher; only the latest is ever sent on chain.
    let owed = 0n;
    let latest: Hex = "0x";
    for (let i = 1n; i <= 1000n; i++) {
      owed += parseEther("0.004");
      if (i % 250n === 0n) latest = await x.voucher(signed.lease, owed, i);
    }
    await close(signed, owed, 1000n, x.provider, latest);
    await x.timeTo(signed.lease, x.auditWindow + 1n);
    await releaseLeaseCollateral(x.stranger, signed);
    // 4 LILY owed: 10% royalty; the provider its 3.6 and its 5 collateral back; the payer 6 back.
    await x.assertMoved(b, {
      provider: parseEther("3.6") + parseEther("5"),
      modelCreator: parseEther("0.4"),
      payer: parseEther("6"),
      totalLocked: -parseEther("15"),
    });
    assert.deepEqual(await leaseRecord(x.f.deployer, { leaseId: signed.id }), { state: "closed", collateral: "released", paid: owed, requests: 1000n });
  });
});

describe("the contract", () => {
  test("has no admin: its only state-changing functions are the lease lifecycle and the escrow's own", async () => {
    const writes = writeFunctions(lilyLeasesAbi)
      .map((fn) => fn.name)
      .sort();
    // releaseCollateral releases to the provider named in the lease, for anyone, only after the audit window.
    assert.deepEqual(writes, ["closeLease", "deposit", "openLease", "reclaimLease", "releaseCollateral", "slashLease", "withdraw"]);
    const code = await x.f.deployer.publicClient.getCode({ address: x.leases });
    const ops = opcodes(code!);
    for (const [op, byte] of Object.entries(OPCODE)) assert.ok(!ops.has(byte), `LilyLeases has no ${op}`);
    assert.ok(ops.has(0x55), "the scan sees SSTORE");
  });

  test("every lease ended, every token can leave: the contract ends holding nothing", async () => {
    const last = opened.reduce((m, s) => (s.lease.expiresAt > m.expiresAt ? s.lease : m), opened[0]!.lease);
    await x.timeTo(last, x.auditWindow + 1n);
    for (const s of opened) {
      const r = await leaseRecord(x.f.deployer, { leaseId: s.id });
      if (r.state === "open") await reclaimLease(x.stranger, s);
      if ((await leaseRecord(x.f.deployer, { leaseId: s.id })).collateral === "locked") await releaseLeaseCollateral(x.stranger, s);
    }
    const l = await x.assertConserved();
    assert.equal(l.totalLocked, 0n);
    for (const [name, account] of Object.entries(x.names)) {
      const free = await escrowBalance(x.f.deployer, { account, escrow: x.leases });
      if (free === 0n) continue;
      const client = [x.payer, x.provider, x.provider2, x.stranger, x.mediator, x.mediator2, x.modelCreator].find((c) => addr(c) === account)!;
      await withdraw(client, { amount: free, escrow: x.leases });
      assert.equal(await tokenBalance(x.f.deployer, { account }), l[`wallet:${name}`]! + free);
    }
    assert.equal(await tokenBalance(x.f.deployer, { account: x.leases }), 0n);
  });
});
