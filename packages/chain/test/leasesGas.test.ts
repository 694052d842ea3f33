// The on-chain cost of a lease, measured on anvil and reported as test diagnostics: no chain
// transaction sits on the request path, so a lease serving 1,000 answers costs its open, its one
// close (with the payer's latest voucher) and the release of its collateral, whatever the number
// of answers. Each step is measured on a second lease, so the numbers are the steady state
// (balances already non-zero, some lease already locked), not first-touch storage costs. The
// assertions are generous ceilings that catch a per-request cost or a storage blow-up, not timings.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { parseEther } from "viem";
import { closeLease, openLease, releaseLeaseCollateral, slashLease } from "../src/index.ts";
import { startLeaseFixture, type LeaseFixture, type SignedLease } from "./leasesFixture.ts";

let x: LeaseFixture;
before(async () => (x = await startLeaseFixture()));
after(() => x.f.stop());

/** Open, serve `requests` answers (off chain), close with the latest voucher for `amount`, release the collateral. */
async function lifecycle(requests: bigint, signed: SignedLease, amount = parseEther("3")) {
  const opened = await openLease(x.stranger, signed);
  const closed = await closeLease(x.provider, {
    lease: signed.lease,
    amount,
    requests,
    voucherSignature: await x.voucher(signed.lease, amount, requests),
  });
  await x.timeTo(signed.lease, x.auditWindow + 1n);
  const released = await releaseLeaseCollateral(x.stranger, signed);
  return { open: opened.gasUsed, close: closed.gasUsed, release: released.gasUsed };
}

test("a lease's gas does not grow with its answers: open + close + release per 1,000 requests", async (t) => {
  // Steady state: another lease is open meanwhile (so the locked pool is never empty) and every
  // party already holds a balance.
  await openLease(x.stranger, await x.newLease({ provider: x.provider2.account!.address, expiresIn: 10 * 86_400 }));
  await lifecycle(10n, await x.newLease()); // warm-up: first touches
  const thousand = await lifecycle(1000n, await x.newLease());
  const million = await lifecycle(1_000_000n, await x.newLease(), parseEther("9.999"));
  const total = thousand.open + thousand.close + thousand.release;
  t.diagnostic(`openLease ${thousand.open} gas, closeLease ${thousand.close} gas (royalty paid), releaseCollateral ${thousand.release} gas`);
  t.diagnostic(`per lease of 1,000 requests: ${total} gas = ${Number(total) / 1000} gas per request`);
  // The close is one voucher whatever it counts: a million answers cost what a thousand do (up
  // to calldata: a signature's and an amount's zero bytes are cheaper than non-zero ones).
  const spread = million.close > thousand.close ? million.close - thousand.close : thousand.close - million.close;
  assert.ok(spread < 500n, `closing over 1,000 answers costs ${thousand.close} gas, over 1,000,000 ${million.close}`);
  assert.ok(total < 250_000n, `a whole lease costs ${total} gas`);
});

test("a lease without a mediator needs no release transaction; a slash costs one transaction", async (t) => {
  const plain = await x.newLease({ mediator: "0x0000000000000000000000000000000000000000", royaltyBps: 0 });
  await openLease(x.stranger, await x.newLease({ mediator: "0x0000000000000000000000000000000000000000", royaltyBps: 0 })); // warm-up
  const opened = await openLease(x.stranger, plain);
  const closed = await closeLease(x.provider, {
    lease: plain.lease,
    amount: parseEther("3"),
    requests: 1000n,
    voucherSignature: await x.voucher(plain.lease, parseEther("3"), 1000n),
  });
  t.diagnostic(
    `unmediated, no royalty: openLease ${opened.gasUsed} + closeLease ${closed.gasUsed} (collateral returned) = ${opened.gasUsed + closed.gasUsed} gas per lease`,
  );

  const audited = await x.newLease();
  await openLease(x.stranger, audited);
  const slashed = await slashLease(x.mediator, { lease: audited.lease, ...(await x.receipt(audited.lease, 17n)) });
  t.diagnostic(`slashLease ${slashed.gasUsed} gas`);
  assert.ok(slashed.gasUsed < 120_000n, `a slash costs ${slashed.gasUsed} gas`);
});
