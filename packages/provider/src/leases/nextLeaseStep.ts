// What the provider does next about one lease, as a pure function of its own record, the chain's
// and the time (like nextStep.ts for deals). The rules that protect it: it closes every open lease
// with the payer's latest voucher once service has ended (after expiresAt, with a short grace for
// vouchers of answers still in flight, and well inside the claim window), or earlier when the
// budget is spent (and again, should the chain node lose the close while the claim window is open);
// and it takes its collateral back once the audit window is over. Every pass
// starts again from the chain's word, so a failed or repeated step, or a restart, loses nothing.
import type { CollateralStateName, LeaseStateName } from "@lily/chain";
import { answerCost } from "@lily/protocol";
import type { CollateralState, LocalLease } from "./leaseBook.ts";

export interface LeaseView {
  local: LocalLease;
  /** The chain's record of the lease. */
  chain: { state: LeaseStateName; collateral: CollateralStateName };
  /** The contract's windows after expiresAt: to close (CLAIM_WINDOW) and to slash (AUDIT_WINDOW). */
  claimWindowSeconds: number;
  auditWindowSeconds: number;
  /** Answers being generated under it now. */
  inFlight: number;
  /** Unix seconds. */
  now: number;
}

export type LeaseStep =
  | { kind: "wait"; why: string }
  | { kind: "close"; amount: bigint; requests: bigint; why: string }
  | { kind: "releaseCollateral" }
  /** Write down what the chain says (or what can no longer happen). */
  | { kind: "record"; state: LocalLease["state"]; collateral?: CollateralState; why: string };

/** Seconds after expiry the provider waits for the vouchers of the last answers before it closes (a part of the claim window). */
export function settleDelaySeconds(claimWindowSeconds: number): number {
  return Math.min(60, Math.floor(claimWindowSeconds / 10));
}

export function nextLeaseStep(v: LeaseView): LeaseStep {
  const { local, chain, now } = v;
  const l = local.lease;
  const t = BigInt(now);
  if (local.state === "proposed") {
    if (chain.state === "open") return { kind: "record", state: "open", collateral: "locked", why: "opened on chain" };
    if (chain.state !== "none") return { kind: "record", state: chain.state, collateral: "locked", why: `the chain says ${chain.state}` };
    if (t > l.openBy) return { kind: "record", state: "expired", collateral: "none", why: `not opened by its openBy ${l.openBy}` };
    return { kind: "wait", why: `waiting for the payer to open it (until ${l.openBy})` };
  }
  if (local.state === "open") {
    if (chain.state === "closed") return { kind: "record", state: "closed", why: "closed on chain" };
    if (chain.state === "expired") return { kind: "record", state: "expired", why: "reclaimed by the payer on chain: the claim window was missed" };
    if (chain.state === "none") return { kind: "wait", why: "the chain does not know it (a node behind?)" };
    const claimEnd = l.expiresAt + BigInt(v.claimWindowSeconds);
    // The contract refuses a close after the claim window: nothing left to claim.
    if (t > claimEnd) return { kind: "wait", why: `its claim window ended at ${claimEnd}; the payer may reclaim the budget` };
    const close = { kind: "close" as const, amount: local.voucher.amount, requests: local.voucher.requests };
    // Early, when the budget cannot pay another token and every answer is paid: closing ends the service.
    const spent = l.budget - local.voucher.amount < answerCost(l, 1, 1) && local.voucher.amount >= local.owed && v.inFlight === 0;
    if (spent) return { ...close, why: "its budget is spent" };
    const due = l.expiresAt + BigInt(settleDelaySeconds(v.claimWindowSeconds));
    if (t >= due) return { ...close, why: `service ended at ${l.expiresAt}` };
    return { kind: "wait", why: `serving until ${l.expiresAt}` };
  }
  if (local.state === "closed" && chain.state === "open") {
    // The node lost the block with our close (a restart without its last blocks, a reorg): the
    // lease is open again and, past the claim window, the payer could reclaim the whole budget.
    const claimEnd = l.expiresAt + BigInt(v.claimWindowSeconds);
    if (t > claimEnd) return { kind: "wait", why: `the chain lost our close and its claim window ended at ${claimEnd}` };
    return { kind: "close", amount: local.voucher.amount, requests: local.voucher.requests, why: "the chain lost our close: closing again" };
  }
  // closed or expired: the collateral comes back after the audit window (at once when closed without a mediator).
  if (local.collateral !== "locked") return { kind: "wait", why: `collateral ${local.collateral}` };
  if (chain.collateral === "released") return { kind: "record", state: local.state, collateral: "released", why: "collateral released on chain" };
  if (chain.collateral === "slashed") return { kind: "record", state: local.state, collateral: "slashed", why: "collateral slashed by the lease's mediator" };
  const auditEnd = l.expiresAt + BigInt(v.auditWindowSeconds);
  if (t > auditEnd) return { kind: "releaseCollateral" };
  return { kind: "wait", why: `collateral slashable until ${auditEnd}` };
}
