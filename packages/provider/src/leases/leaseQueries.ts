// The small lease handlers: a lease as the provider sees it, the payer's vouchers, an answer by its
// ticket, and the lease's state on chain (read once it matters, and kept once it is open).
import type { Hex } from "viem";
import { LilyError, verifyRecord, type SignedVoucher } from "@lily/protocol";
import type { LeaseStatus } from "@lily/api";
import type { LocalLease, StoredAnswer } from "./leaseBook.ts";
import { checkVoucher } from "./checkVoucher.ts";
import type { LeaseContext } from "./leaseContext.ts";

export function knownLease(ctx: LeaseContext, id: Hex): LocalLease {
  const local = ctx.book.get(id);
  if (!local) throw new LilyError({ code: "NOT_FOUND", field: "params.id", message: `no lease ${id} with this provider` });
  return local;
}

export function leaseStatus(ctx: LeaseContext, id: Hex): LeaseStatus {
  const l = knownLease(ctx, id);
  return {
    id: l.id,
    lease: l.lease,
    state: l.collateral === "slashed" ? "slashed" : l.state,
    requests: l.requests,
    owed: l.owed,
    paid: l.voucher.amount,
  };
}

/** The lease, known to be open on chain: a proposed one is looked up on chain once and kept as open. */
export async function openLease(ctx: LeaseContext, id: Hex): Promise<LocalLease> {
  const local = knownLease(ctx, id);
  if (local.state !== "proposed") return local;
  const onChain = await ctx.chain.leaseRecord(local.id);
  if (onChain.state !== "open") return local;
  ctx.book.setState(local.id, { state: "open", collateral: "locked", note: "opened on chain" });
  return { ...local, state: "open", collateral: "locked" };
}

export async function postVoucher(ctx: LeaseContext, id: Hex, signed: SignedVoucher): Promise<{ paid: bigint }> {
  const local = knownLease(ctx, id);
  const admission = checkVoucher(signed.voucher, local, local.voucher);
  if (admission.kind === "same") return { paid: local.voucher.amount };
  // REJECT: a voucher pays only when the lease's payer signed it
  await verifyRecord(ctx.domain, "Voucher", signed.voucher, signed.signature, { signer: local.lease.payer, field: "signature" });
  // Checked again after the await: a newer voucher may have arrived meanwhile.
  const now = knownLease(ctx, id);
  if (checkVoucher(signed.voucher, now, now.voucher).kind === "same") return { paid: now.voucher.amount };
  ctx.book.putVoucher(id, { amount: signed.voucher.amount, requests: signed.voucher.requests, signature: signed.signature });
  return { paid: signed.voucher.amount };
}

export function answerByTicket(ctx: LeaseContext, id: Hex, ticket: string): StoredAnswer {
  knownLease(ctx, id);
  const answer = ctx.book.answer(id, ticket);
  if (!answer) throw new LilyError({ code: "NOT_FOUND", field: "params.ticket", message: `no answer under ticket ${ticket} for lease ${id}` });
  return answer;
}
