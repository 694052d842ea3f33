// Whether a voucher the payer sends replaces the one the provider holds: a pure check (its
// signature is verified around it). Vouchers are cumulative, so only a newer one counts: an older
// or smaller one is refused, the very same one again changes nothing.
import type { Hex } from "viem";
import { LilyError, type Lease, type Voucher } from "@lily/protocol";

export type VoucherAdmission = { kind: "same" } | { kind: "newer" };

const refuse = (code: "INVALID_INPUT" | "CONFLICT", field: string, message: string) => new LilyError({ code, field, message: `${field}: ${message}` });

export function checkVoucher(
  voucher: Voucher,
  lease: { id: Hex; lease: Lease },
  held: { amount: bigint; requests: bigint; signature?: Hex },
): VoucherAdmission {
  // REJECT: a voucher for another lease
  if (voucher.lease.toLowerCase() !== lease.id.toLowerCase()) throw refuse("INVALID_INPUT", "voucher.lease", `is ${voucher.lease}, not this lease ${lease.id}`);
  // REJECT: more than the budget (the contract would refuse to close with it)
  if (voucher.amount > lease.lease.budget)
    throw refuse("INVALID_INPUT", "voucher.amount", `${voucher.amount} is above the lease's budget ${lease.lease.budget}`);
  if (held.signature !== undefined && voucher.amount === held.amount && voucher.requests === held.requests) return { kind: "same" };
  // REJECT: an older voucher (smaller, or counting fewer answers) never replaces a newer one
  if (voucher.amount < held.amount) throw refuse("CONFLICT", "voucher.amount", `${voucher.amount} is below the ${held.amount} of the latest voucher`);
  if (voucher.requests < held.requests)
    throw refuse("CONFLICT", "voucher.requests", `${voucher.requests} answers is fewer than the ${held.requests} of the latest voucher`);
  // REJECT: one that adds nothing (equal amount and count under another signature)
  if (voucher.amount === held.amount && voucher.requests === held.requests) throw refuse("CONFLICT", "voucher", "adds nothing to the latest voucher");
  return { kind: "newer" };
}
