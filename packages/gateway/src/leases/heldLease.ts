// One lease the gateway holds, as it keeps it in memory: the signed terms, what it has paid by
// voucher, and what requests in flight may still cost (their worst case, reserved until paid).
import type { Address, Hex } from "viem";
import type { Lease } from "@lily/protocol";

export interface HeldLease {
  id: Hex;
  terms: Lease;
  provider: Address;
  endpoint: string;
  /** The model manifest's CID. */
  model: string;
  /** The latest voucher's amount. */
  paid: bigint;
  /** Answers paid for. */
  requests: bigint;
  /** Worst-case cost of answers in flight. */
  reserved: bigint;
  /** Answers in flight. */
  inFlight: number;
  /** Vouchers are signed one at a time per lease, so amounts only ever grow. */
  tail: Promise<unknown>;
}

/** Seconds before expiry a lease stops taking new requests, so answers end before service does. */
export const EXPIRY_MARGIN_SECONDS = 60;

/** Whether the lease can take a request that may cost `worstCase` at `now` (unix seconds). */
export function canTake(held: HeldLease, worstCase: bigint, now: number): boolean {
  if (BigInt(now + EXPIRY_MARGIN_SECONDS) >= held.terms.expiresAt) return false;
  return held.terms.budget - held.paid - held.reserved >= worstCase;
}
