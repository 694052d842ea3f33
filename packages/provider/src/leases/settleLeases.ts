// One settlement pass over every lease the provider still follows: read the chain's word where it
// matters, ask nextLeaseStep (pure) what to do, and do it. An open lease before its end is not read
// from the chain (it stays open until the provider closes it, or its claim window is missed).
// Errors are logged and the next pass decides again, so a failed close or a restart loses nothing.
// A lease that stops being followed (closed or expired, its collateral back or slashed) is recorded
// only after the block its record relies on is written down: if the chain node loses it, the
// provider's lost-blocks watch follows the lease again (LeaseBook.followAgain), and a close the
// node lost is sent again while the claim window is open.
import { settleDelaySeconds, nextLeaseStep, type LeaseStep } from "./nextLeaseStep.ts";
import { seconds, type LeaseContext } from "./leaseContext.ts";
import { isFollowed, type LocalLease } from "./leaseBook.ts";

export interface Windows {
  claimWindowSeconds: number;
  auditWindowSeconds: number;
}

export async function settleLeases(ctx: LeaseContext, windows: Windows): Promise<void> {
  for (const local of ctx.book.followed()) {
    try {
      await settleOne(ctx, windows, local);
    } catch (e) {
      ctx.logger.warn("lease step failed; retrying on the next pass", { lease: local.id, err: e });
    }
  }
}

async function settleOne(ctx: LeaseContext, windows: Windows, local: LocalLease): Promise<void> {
  const now = seconds(ctx);
  const inFlight = ctx.inFlight.get(local.id)?.tickets.size ?? 0;
  // Nothing can change for an open lease before its end but its budget running out: spare the chain a read.
  const l = local.lease;
  if (local.state === "open" && BigInt(now) < l.expiresAt + BigInt(settleDelaySeconds(windows.claimWindowSeconds))) {
    const step = nextLeaseStep({ local, chain: { state: "open", collateral: "locked" }, ...windows, inFlight, now });
    if (step.kind !== "close") return;
  }
  const chain = await ctx.chain.leaseRecord(local.id);
  const step = nextLeaseStep({ local, chain, ...windows, inFlight, now });
  // The newest block, read after the record, is at or above every block the record saw.
  if (step.kind === "record" && !isFollowed({ state: step.state, collateral: step.collateral ?? local.collateral })) ctx.relyOn(await ctx.chain.headBlock());
  await apply(ctx, local, step);
}

async function apply(ctx: LeaseContext, local: LocalLease, step: LeaseStep): Promise<void> {
  switch (step.kind) {
    case "wait":
      return;
    case "record":
      ctx.book.setState(local.id, { state: step.state, ...(step.collateral && { collateral: step.collateral }), note: step.why });
      ctx.logger.info("lease recorded", { lease: local.id, state: step.state, collateral: step.collateral, why: step.why });
      return;
    case "close": {
      const v = local.voucher;
      const tx = await ctx.chain.closeLease({
        lease: local.lease,
        amount: step.amount,
        requests: step.requests,
        ...(v.signature && step.amount === v.amount && { voucherSignature: v.signature }),
      });
      ctx.book.setState(local.id, { state: "closed", closeTx: tx, note: step.why });
      ctx.logger.info("lease closed on chain", { lease: local.id, amount: step.amount, requests: step.requests, owed: local.owed, tx, why: step.why });
      return;
    }
    case "releaseCollateral": {
      const tx = await ctx.chain.releaseCollateral(local.lease);
      ctx.book.setState(local.id, { collateral: "released", note: "collateral released after the audit window" });
      ctx.logger.info("lease collateral released", { lease: local.id, tx });
      return;
    }
  }
}
