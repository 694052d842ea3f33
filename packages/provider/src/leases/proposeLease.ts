// A payer proposes a lease it signed: the provider checks the terms (checkLeaseProposal), the
// payer's signature, that the payer's LilyLeases balance covers the budget and its own covers the
// collateral (beside leases it countersigned that may still open), then countersigns and records
// it as proposed. The payer opens it on chain; the provider serves it only once it is open.
import type { Hex } from "viem";
import { LilyError, hashRecord, signRecord, verifyRecord, type SignedLease } from "@lily/protocol";
import { checkLeaseProposal } from "./checkLeaseProposal.ts";
import { seconds, type LeaseContext } from "./leaseContext.ts";

/** Proposals are checked one at a time per provider, so two at once cannot both count the same free collateral. */
const queues = new WeakMap<LeaseContext, Promise<unknown>>();

export function proposeLease(ctx: LeaseContext, signed: SignedLease): Promise<{ id: Hex; providerSignature: Hex }> {
  const run = (queues.get(ctx) ?? Promise.resolve()).then(() => checkAndSign(ctx, signed));
  queues.set(
    ctx,
    run.catch(() => undefined),
  );
  return run;
}

async function checkAndSign(ctx: LeaseContext, signed: SignedLease): Promise<{ id: Hex; providerSignature: Hex }> {
  const { lease } = signed;
  const id = hashRecord(ctx.domain, "Lease", lease);
  const known = ctx.book.get(id);
  // The same terms again (an answer lost on the way): the same countersignature.
  if (known) return { id, providerSignature: known.providerSignature };
  const now = seconds(ctx);
  checkLeaseProposal(lease, { ...ctx.rules, provider: ctx.account.address, models: ctx.models }, now);
  // REJECT: the payer must have signed exactly these terms on this chain and LilyLeases contract
  await verifyRecord(ctx.domain, "Lease", lease, signed.payerSignature, { signer: lease.payer, field: "payerSignature" });
  // REJECT: a payer whose escrow cannot lock the budget (the lease could never open)
  const payerFree = await ctx.chain.escrowBalance(lease.payer);
  if (payerFree < lease.budget)
    throw new LilyError({
      code: "INSUFFICIENT_DEPOSIT",
      field: "lease.budget",
      message: `lease.budget: the payer's LilyLeases balance ${payerFree} is below the budget ${lease.budget}`,
      details: { balance: payerFree.toString(), budget: lease.budget.toString() },
    });
  // REJECT: its own collateral must cover this lease beside every countersigned lease that may still open
  const pending = ctx.book
    .followed()
    .filter((l) => l.state === "proposed" && l.lease.openBy >= BigInt(now))
    .reduce((s, l) => s + l.lease.collateral, 0n);
  const own = await ctx.chain.escrowBalance(ctx.account.address);
  if (own < pending + lease.collateral)
    throw new LilyError({
      code: "INSUFFICIENT_DEPOSIT",
      field: "lease.collateral",
      message: `lease.collateral: this provider's LilyLeases balance ${own} cannot lock ${lease.collateral} beside ${pending} held for leases not yet opened`,
      hint: "the provider must deposit into LilyLeases",
      details: { balance: own.toString(), pending: pending.toString(), collateral: lease.collateral.toString() },
    });
  const providerSignature = await signRecord(ctx.account, ctx.domain, "Lease", lease);
  ctx.book.propose({ id, lease, payerSignature: signed.payerSignature, providerSignature });
  ctx.logger.info("lease countersigned", { lease: id, payer: lease.payer, model: lease.model, budget: lease.budget, expiresAt: lease.expiresAt });
  // The model is loaded on first use: start now, while the payer opens the lease on chain.
  ctx.models.get(lease.model)?.prepare?.();
  return { id, providerSignature };
}
