// LilyLeases, rule by rule, on a real anvil: the lease id and the voucher and receipt digests
// match @lily/protocol's EIP-712 types; each function's REJECT lines refuse with their custom
// error and move nothing; every accepted call moves exactly what its rule says, and the leases
// escrow stays conserved (token.balanceOf(leases) == Σ escrow + totalLocked) after each.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { keccak256, parseEther, toHex } from "viem";
import { hashRecord, signRecord, type ErrorCode } from "@lily/protocol";
import {
  closeLease,
  explainedErrors,
  leaseId,
  lilyLeasesAbi,
  openLease,
  reclaimLease,
  releaseLeaseCollateral,
  slashLease,
  type LilyClient,
} from "../src/index.ts";
import { rejectsWith } from "./fixture.ts";
import { LEASE_DEPOSIT, ZERO_ADDRESS, startLeaseFixture, type LeaseFixture, type LeaseTerms } from "./leasesFixture.ts";

let x: LeaseFixture;
before(async () => (x = await startLeaseFixture()));
after(() => x.f.stop());

const addr = (c: LilyClient) => c.account!.address;
const read = <T>(functionName: string, args: unknown[]) =>
  x.f.deployer.publicClient.readContract({ address: x.leases, abi: lilyLeasesAbi, functionName, args } as never) as Promise<T>;

describe("the lease's records on chain equal @lily/protocol's EIP-712 types", () => {
  test("hashLease, hashVoucher and hashReceipt equal hashRecord under the LilyLeases domain", async () => {
    const { lease } = await x.newLease({ model: "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy", royaltyBps: 250 });
    const id = await read<string>("hashLease", [lease]);
    assert.equal(id, hashRecord(x.domain, "Lease", lease));
    assert.equal(id, leaseId(x.f.addresses, lease));
    // A different verifying contract (LilyDeals) gives a different id: signatures bind to LilyLeases.
    assert.notEqual(id, hashRecord({ chainId: x.f.addresses.chainId, verifyingContract: x.f.addresses.deals }, "Lease", lease));
    const voucher = { lease: id as `0x${string}`, amount: parseEther("1.5"), requests: 42n };
    assert.equal(await read("hashVoucher", [voucher.lease, voucher.amount, voucher.requests]), hashRecord(x.domain, "Voucher", voucher));
    const { receipt } = await x.receipt(lease, 7n);
    assert.equal(await read("hashReceipt", [receipt]), hashRecord(x.domain, "Receipt", receipt));
  });

  test("every custom error LilyLeases can revert with has a readable sentence", () => {
    const internal = new Set(["InvalidShortString", "StringTooLong", "ReentrancyGuardReentrantCall", "SafeERC20FailedOperation"]);
    const missing = lilyLeasesAbi
      .filter((i) => i.type === "error")
      .map((e) => e.name)
      .filter((name) => !internal.has(name) && !explainedErrors.has(name));
    assert.deepEqual(missing, []);
  });
});

describe("openLease", () => {
  test("locks the budget from the payer's and the collateral from the provider's leases escrow", async () => {
    const signed = await x.newLease();
    const b = await x.ledger();
    const sent = await openLease(x.stranger, signed);
    assert.equal(sent.leaseId, signed.id);
    await x.assertMoved(b, { payer: -parseEther("10"), provider: -parseEther("5"), totalLocked: parseEther("15") });
    assert.deepEqual(await x.record(signed.lease), { state: "open", collateral: "locked", paid: 0n, requests: 0n });
  });

  const refusals: [string, (now: bigint) => LeaseTerms, ErrorCode, string][] = [
    ["after its openBy", () => ({ openBy: 1n }), "DEADLINE_PASSED", "LeasesOpenByPassed"],
    ["expiring at its openBy", (now) => ({ openBy: now + 60n, expiresAt: now + 60n }), "INVALID_INPUT", "LeasesExpiryNotAfterOpenBy"],
    ["with a royalty above the whole payment", () => ({ royaltyBps: 10_001 }), "INVALID_INPUT", "LeasesInvalidRoyalty"],
    ["with a royalty paid to nobody", () => ({ royaltyBps: 1, moduleCreator: ZERO_ADDRESS }), "INVALID_INPUT", "LeasesInvalidRoyalty"],
    ["between an account and itself", () => ({ provider: addr(x.payer) }), "INVALID_INPUT", "LeasesSameParty"],
    ["naming the payer as mediator", () => ({ mediator: addr(x.payer) }), "INVALID_INPUT", "LeasesMediatorIsParty"],
    ["naming the provider as mediator", () => ({ mediator: addr(x.provider) }), "INVALID_INPUT", "LeasesMediatorIsParty"],
    ["with a budget no record could hold", () => ({ budget: 1n << 176n }), "INVALID_INPUT", "LeasesBudgetTooLarge"],
    ["with a budget above the payer's escrow", () => ({ budget: LEASE_DEPOSIT * 2n }), "INSUFFICIENT_DEPOSIT", "EscrowInsufficientBalance"],
    ["with a collateral above the provider's escrow", () => ({ collateral: LEASE_DEPOSIT * 2n }), "INSUFFICIENT_DEPOSIT", "EscrowInsufficientBalance"],
  ];
  for (const [name, terms, code, error] of refusals) {
    test(`refuses a lease ${name} (${error}), locking nothing`, async () => {
      const now = (await x.f.deployer.publicClient.getBlock()).timestamp;
      const signed = await x.newLease(terms(now));
      const b = await x.ledger();
      await rejectsWith(openLease(x.stranger, signed), code, error);
      await x.assertMoved(b, {});
      assert.equal((await x.record(signed.lease)).state, "none");
    });
  }

  test("refuses a signature by anyone but the payer or the provider, and a second opening", async () => {
    const signed = await x.newLease();
    const b = await x.ledger();
    const strangerSig = await signRecord(x.stranger.account!, x.domain, "Lease", signed.lease);
    const e1 = await rejectsWith(openLease(x.stranger, { ...signed, payerSignature: strangerSig }), "BAD_SIGNATURE", "LeasesInvalidSignature");
    assert.equal((e1.details.args as Record<string, string>).signer, addr(x.payer));
    const e2 = await rejectsWith(openLease(x.stranger, { ...signed, providerSignature: strangerSig }), "BAD_SIGNATURE", "LeasesInvalidSignature");
    assert.equal((e2.details.args as Record<string, string>).signer, addr(x.provider));
    // The payer's signature over other terms (another nonce) does not open these.
    const other = await x.newLease();
    await rejectsWith(openLease(x.stranger, { ...signed, payerSignature: other.payerSignature }), "BAD_SIGNATURE", "LeasesInvalidSignature");
    await x.assertMoved(b, {});
    await x.open(signed);
    await rejectsWith(openLease(x.stranger, signed), "CONFLICT", "LeasesAlreadyOpened");
  });
});

describe("closeLease", () => {
  test("pays the voucher's amount (royalty to the model's creator), refunds the rest, keeps the collateral locked", async () => {
    const signed = await x.newLease();
    await x.open(signed);
    const amount = parseEther("4");
    const b = await x.ledger();
    await closeLease(x.provider, { lease: signed.lease, amount, requests: 1000n, voucherSignature: await x.voucher(signed.lease, amount, 1000n) });
    await x.assertMoved(b, {
      provider: parseEther("3.6"),
      modelCreator: parseEther("0.4"),
      payer: parseEther("6"),
      totalLocked: -parseEther("10"),
    });
    assert.deepEqual(await x.record(signed.lease), { state: "closed", collateral: "locked", paid: amount, requests: 1000n });
    await rejectsWith(
      closeLease(x.provider, { lease: signed.lease, amount, requests: 1000n, voucherSignature: await x.voucher(signed.lease, amount, 1000n) }),
      "CHAIN_REVERT",
      "LeasesNotOpen",
    );
  });

  test("closing for nothing needs no voucher: the whole budget goes back to the payer", async () => {
    const signed = await x.newLease();
    await x.open(signed);
    const b = await x.ledger();
    await closeLease(x.provider, { lease: signed.lease, amount: 0n, requests: 0n });
    await x.assertMoved(b, { payer: parseEther("10"), totalLocked: -parseEther("10") });
    assert.equal((await x.record(signed.lease)).state, "closed");
  });

  test("a lease that names no mediator returns the collateral at close: nobody could slash it", async () => {
    const signed = await x.newLease({ mediator: ZERO_ADDRESS, royaltyBps: 0 });
    await x.open(signed);
    const b = await x.ledger();
    const amount = parseEther("1");
    await closeLease(x.provider, { lease: signed.lease, amount, requests: 3n, voucherSignature: await x.voucher(signed.lease, amount, 3n) });
    await x.assertMoved(b, { provider: parseEther("1") + parseEther("5"), payer: parseEther("9"), totalLocked: -parseEther("15") });
    assert.equal((await x.record(signed.lease)).collateral, "released");
  });

  test("refuses anyone but the provider, a voucher it was not given, and more than the budget", async () => {
    const signed = await x.newLease();
    await x.open(signed);
    const other = await x.newLease();
    await x.open(other);
    const b = await x.ledger();
    const amount = parseEther("2");
    const good = await x.voucher(signed.lease, amount, 10n);
    for (const who of [x.payer, x.stranger, x.mediator]) {
      await rejectsWith(closeLease(who, { lease: signed.lease, amount, requests: 10n, voucherSignature: good }), "CHAIN_REVERT", "LeasesNotProvider");
    }
    const cases: [string, bigint, bigint, `0x${string}`][] = [
      ["more than the voucher says", amount + 1n, 10n, good],
      ["another count of requests", amount, 11n, good],
      ["a voucher for another lease", amount, 10n, await x.voucher(other.lease, amount, 10n)],
      ["a voucher the provider signed itself", amount, 10n, await x.voucher(signed.lease, amount, 10n, x.provider)],
      ["no voucher at all", amount, 10n, "0x"],
      ["a count with no voucher", 0n, 10n, "0x"],
    ];
    for (const [what, a, r, sig] of cases) {
      const e = await rejectsWith(
        closeLease(x.provider, { lease: signed.lease, amount: a, requests: r, voucherSignature: sig }),
        "BAD_SIGNATURE",
        "LeasesInvalidSignature",
      );
      assert.equal((e.details.args as Record<string, string>).signer, addr(x.payer), what);
    }
    const over = signed.lease.budget + 1n;
    await rejectsWith(
      closeLease(x.provider, { lease: signed.lease, amount: over, requests: 1n, voucherSignature: await x.voucher(signed.lease, over, 1n) }),
      "INVALID_INPUT",
      "LeasesVoucherOverBudget",
    );
    await rejectsWith(closeLease(x.provider, { lease: (await x.newLease()).lease, amount: 0n, requests: 0n }), "CHAIN_REVERT", "LeasesNotOpen");
    await x.assertMoved(b, {});
  });
});

describe("reclaimLease and the claim window", () => {
  test("the provider keeps its claim window; after it anyone returns the whole budget to the payer, and the provider can no longer close", async () => {
    const signed = await x.newLease();
    await x.open(signed);
    await x.timeTo(signed.lease, x.claimWindow - 30n);
    const b = await x.ledger();
    await rejectsWith(reclaimLease(x.stranger, signed), "CHAIN_REVERT", "LeasesClaimWindowOpen");
    await x.timeTo(signed.lease, x.claimWindow + 1n);
    const amount = parseEther("1");
    await rejectsWith(
      closeLease(x.provider, { lease: signed.lease, amount, requests: 1n, voucherSignature: await x.voucher(signed.lease, amount, 1n) }),
      "DEADLINE_PASSED",
      "LeasesClaimWindowClosed",
    );
    await x.assertMoved(b, {});
    await reclaimLease(x.stranger, signed);
    await x.assertMoved(b, { payer: parseEther("10"), totalLocked: -parseEther("10") });
    assert.deepEqual(await x.record(signed.lease), { state: "expired", collateral: "locked", paid: 0n, requests: 0n });
    await rejectsWith(reclaimLease(x.stranger, signed), "CHAIN_REVERT", "LeasesNotOpen");
    await rejectsWith(
      closeLease(x.provider, { lease: signed.lease, amount, requests: 1n, voucherSignature: await x.voucher(signed.lease, amount, 1n) }),
      "CHAIN_REVERT",
      "LeasesNotOpen",
    );
  });

  test("a closed lease cannot be reclaimed; a reclaim after the audit window also returns the collateral", async () => {
    const closed = await x.newLease();
    const late = await x.newLease();
    await x.open(closed);
    await x.open(late);
    await closeLease(x.provider, { lease: closed.lease, amount: 0n, requests: 0n });
    await x.timeTo(late.lease, x.auditWindow + 1n);
    await rejectsWith(reclaimLease(x.stranger, closed), "CHAIN_REVERT", "LeasesNotOpen");
    const b = await x.ledger();
    await reclaimLease(x.stranger, late);
    await x.assertMoved(b, { payer: parseEther("10"), provider: parseEther("5"), totalLocked: -parseEther("15") });
    assert.equal((await x.record(late.lease)).collateral, "released");
  });
});

describe("releaseCollateral and the audit window", () => {
  test("waits for the lease to end and its audit window to pass, then returns the collateral once", async () => {
    const signed = await x.newLease();
    await x.open(signed);
    const b = await x.ledger();
    await rejectsWith(releaseLeaseCollateral(x.stranger, signed), "CHAIN_REVERT", "LeasesNotEnded");
    await closeLease(x.provider, { lease: signed.lease, amount: 0n, requests: 0n });
    await x.timeTo(signed.lease, x.auditWindow - 30n);
    await rejectsWith(releaseLeaseCollateral(x.stranger, signed), "CHAIN_REVERT", "LeasesAuditWindowOpen");
    await x.timeTo(signed.lease, x.auditWindow + 1n);
    await releaseLeaseCollateral(x.stranger, signed);
    await x.assertMoved(b, { payer: parseEther("10"), provider: parseEther("5"), totalLocked: -parseEther("15") });
    assert.equal((await x.record(signed.lease)).collateral, "released");
    await rejectsWith(releaseLeaseCollateral(x.stranger, signed), "CHAIN_REVERT", "LeasesCollateralNotLocked");
    await rejectsWith(releaseLeaseCollateral(x.stranger, await x.newLease()), "CHAIN_REVERT", "LeasesNotEnded");
  });
});

describe("slashLease", () => {
  test("the named mediator slashes over a receipt the provider signed: its fee, the rest to the payer; the voucher still pays", async () => {
    const signed = await x.newLease();
    await x.open(signed);
    const { receipt, providerSignature } = await x.receipt(signed.lease, 3n);
    const b = await x.ledger();
    const sent = await slashLease(x.mediator, { lease: signed.lease, receipt, providerSignature });
    await x.assertMoved(b, { mediator: parseEther("1"), payer: parseEther("4"), totalLocked: -parseEther("5") });
    assert.deepEqual(await x.record(signed.lease), { state: "open", collateral: "slashed", paid: 0n, requests: 0n });
    const logs = await x.f.deployer.publicClient.getContractEvents({
      address: x.leases,
      abi: lilyLeasesAbi,
      eventName: "LeaseSlashed",
      blockHash: (await x.f.deployer.publicClient.getTransactionReceipt({ hash: sent.txHash })).blockHash,
    });
    assert.equal(logs.length, 1);
    assert.deepEqual(
      { leaseId: logs[0]!.args.leaseId, mediator: logs[0]!.args.mediator, seq: logs[0]!.args.seq },
      { leaseId: signed.id, mediator: addr(x.mediator), seq: 3n },
    );
    await rejectsWith(slashLease(x.mediator, { lease: signed.lease, receipt, providerSignature }), "CHAIN_REVERT", "LeasesCollateralNotLocked");
    // The payer signed for 2 LILY of answers: the provider is still paid them (less royalty).
    const b2 = await x.ledger();
    const amount = parseEther("2");
    await closeLease(x.provider, { lease: signed.lease, amount, requests: 5n, voucherSignature: await x.voucher(signed.lease, amount, 5n) });
    await x.assertMoved(b2, { provider: parseEther("1.8"), modelCreator: parseEther("0.2"), payer: parseEther("8"), totalLocked: -parseEther("10") });
    await x.timeTo(signed.lease, x.auditWindow + 1n);
    await rejectsWith(releaseLeaseCollateral(x.stranger, signed), "CHAIN_REVERT", "LeasesCollateralNotLocked");
  });

  test("a mediation fee above the collateral takes only the collateral", async () => {
    const signed = await x.newLease({ mediationFee: parseEther("50") });
    await x.open(signed);
    const b = await x.ledger();
    await slashLease(x.mediator, { lease: signed.lease, ...(await x.receipt(signed.lease, 1n)) });
    await x.assertMoved(b, { mediator: parseEther("5"), totalLocked: -parseEther("5") });
  });

  test("refuses anyone but the named mediator, a receipt the provider did not sign for this lease, and a lease never opened", async () => {
    const signed = await x.newLease();
    const other = await x.newLease();
    await x.open(signed);
    await x.open(other);
    const good = await x.receipt(signed.lease, 1n);
    const b = await x.ledger();
    for (const who of [x.payer, x.provider, x.stranger, x.mediator2]) {
      await rejectsWith(slashLease(who, { lease: signed.lease, ...good }), "CHAIN_REVERT", "LeasesNotMediator");
    }
    await rejectsWith(slashLease(x.mediator, { lease: signed.lease, ...(await x.receipt(other.lease, 1n)) }), "INVALID_INPUT", "LeasesReceiptMismatch");
    await rejectsWith(
      slashLease(x.mediator, {
        lease: signed.lease,
        ...(await x.receipt(signed.lease, 1n, { receipt: { provider: addr(x.provider2) }, signer: x.provider2 })),
      }),
      "INVALID_INPUT",
      "LeasesReceiptMismatch",
    );
    for (const signer of [x.payer, x.mediator]) {
      await rejectsWith(
        slashLease(x.mediator, { lease: signed.lease, ...(await x.receipt(signed.lease, 1n, { signer })) }),
        "BAD_SIGNATURE",
        "LeasesInvalidSignature",
      );
    }
    // The provider's signature over another answer does not stand for this one.
    const tampered = { receipt: { ...good.receipt, response: keccak256(toHex("another answer")) }, providerSignature: good.providerSignature };
    await rejectsWith(slashLease(x.mediator, { lease: signed.lease, ...tampered }), "BAD_SIGNATURE", "LeasesInvalidSignature");
    const never = await x.newLease();
    await rejectsWith(slashLease(x.mediator, { lease: never.lease, ...(await x.receipt(never.lease, 1n)) }), "CHAIN_REVERT", "LeasesNotOpen");
    await x.assertMoved(b, {});
    const unmediated = await x.newLease({ mediator: ZERO_ADDRESS });
    await x.open(unmediated);
    const b2 = await x.ledger();
    await rejectsWith(slashLease(x.mediator, { lease: unmediated.lease, ...(await x.receipt(unmediated.lease, 1n)) }), "CHAIN_REVERT", "LeasesNotMediator");
    await x.assertMoved(b2, {});
  });

  test("after the audit window the collateral is the provider's: no slash", async () => {
    const signed = await x.newLease();
    await x.open(signed);
    await closeLease(x.provider, { lease: signed.lease, amount: 0n, requests: 0n });
    const r = await x.receipt(signed.lease, 1n);
    await x.timeTo(signed.lease, x.auditWindow + 1n);
    const b = await x.ledger();
    await rejectsWith(slashLease(x.mediator, { lease: signed.lease, ...r }), "DEADLINE_PASSED", "LeasesAuditWindowClosed");
    await x.assertMoved(b, {});
  });
});
