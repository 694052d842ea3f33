// What the provider does next about one deal, as a pure function of what it knows: its own record
// of the deal, what the chain says of it (and of its replica group), the solver's record and the
// time. No I/O: provider.ts reads the view, asks for the step and applies it (applyStep.ts), one
// step per deal per pass, so every pass starts again from the chain's word.
//
// The rules that protect the provider: a deal it signed is followed until its openBy whoever
// opens it (its own opening failing ends nothing); it opens a deal only while the solver still
// holds it as signed by both (a deal the solver dropped was re-matched, and opening it would make
// the job creator pay twice); a replica group opens whole or not at all; once committed, it moves
// the deal to settlement itself (finalize, or the group's tally after claiming the timeout of a
// silent replica) rather than waiting for the job creator, and unwinds a dispute nobody ruled on.
import type { Hex } from "viem";
import type { DealStateName } from "@lily/chain";
import { Policy, type DealMessage, type DealRecord } from "@lily/protocol";
import type { LocalDeal, LocalDealStatus } from "./db.ts";

/** One replica of a group as the provider sees it. */
export interface ReplicaView {
  id: Hex;
  deal: DealMessage;
  state: DealStateName;
  /** Its job creator's and provider's signatures, from the solver's record. */
  jobCreatorSig?: Hex;
  providerSig?: Hex;
  /** The solver's status of the replica, if it has a record. */
  status?: DealRecord["status"];
}

export interface DealView {
  local: LocalDeal;
  /** The deal on chain: its state and, once committed or sent to mediation, when (unix seconds). */
  chain: { state: DealStateName; committedAt: bigint; challengedAt: bigint };
  /** The contract's MEDIATION_TIMEOUT: how long mediators have to rule, in seconds. */
  mediationTimeoutSeconds: number;
  /** The solver's record of the deal, if the solver has one. */
  record?: DealRecord;
  /** replicate(k): the group's replicas (this one among them) as far as known. */
  group?: readonly ReplicaView[];
  /** Unix seconds. */
  now: number;
}

export type Step =
  | { kind: "wait"; why: string }
  /** Send this provider's signature again: the solver does not have it. */
  | { kind: "sign" }
  | { kind: "open"; jobCreatorSig: Hex }
  | { kind: "openGroup"; replicas: { deal: DealMessage; jobCreatorSig: Hex; providerSig: Hex }[] }
  | { kind: "run" }
  | { kind: "commit"; resultCid: string }
  | { kind: "finalize" }
  /** Close a silent replica of this provider's group, so that the group can be tallied. */
  | { kind: "claimTimeout"; id: Hex; deal: DealMessage }
  | { kind: "settleGroup"; deals: DealMessage[] }
  /** Put the job's module and inputs back into the store for the mediator. */
  | { kind: "restoreInputs" }
  /** Nobody ruled in time: unwind the deal (the provider gets its collateral back). */
  | { kind: "claimMediationTimeout" }
  /** Stop following the deal: it can no longer open, or can no longer be delivered. */
  | { kind: "giveUp"; status: "expired" | "failed"; why: string }
  /** Write down what the chain says happened. */
  | { kind: "record"; status: LocalDealStatus; why: string };

/** Whether a proposal the solver lists is one to check (and then sign or decline). */
export function shouldCheck(record: DealRecord, known: boolean, now: number): boolean {
  return !known && record.status === "proposed" && !record.providerSignature && BigInt(now) <= record.deal.openBy;
}

export function nextStep(view: DealView): Step {
  const { local, chain } = view;
  switch (chain.state) {
    case "none":
      return beforeOpening(view);
    case "open":
      return whileOpen(view);
    case "committed":
    case "challenged":
      if (local.status !== "committed") return { kind: "record", status: "committed", why: `the chain says ${chain.state}` };
      return chain.state === "committed" ? afterCommit(view) : disputed(view);
    case "settled":
      return { kind: "record", status: "settled", why: "settled on chain: paid" };
    case "slashed":
      return { kind: "record", status: "slashed", why: "slashed on chain" };
    case "timedOut":
      // A deal that was challenged and timed out was unwound (nobody ruled): the collateral came back.
      if (chain.challengedAt > 0n) return { kind: "record", status: "unwound", why: "the dispute was unwound on chain: nobody ruled in time" };
      return { kind: "record", status: "failed", why: "timed out on chain" };
  }
}

function beforeOpening({ local, record, group, now }: DealView): Step {
  const d = local.deal;
  if (BigInt(now) > d.openBy) return { kind: "giveUp", status: "expired", why: `not opened by its openBy ${d.openBy}` };
  if (local.status !== "signed") {
    // The chain lost an opening it had confirmed: a node restarted without its last blocks (anvil
    // does this). Nothing is locked; the deal can still open until its openBy, with the same
    // signatures, and then runs as any opened deal (once: a refused reopening is only watched).
    // Past openBy it has expired (above).
    if (local.jobCreatorSig && local.openRefused === undefined && d.policy !== Policy.replicate) return { kind: "open", jobCreatorSig: local.jobCreatorSig };
    return { kind: "wait", why: `the chain does not know this ${local.status} deal (its opening was lost); watching it until openBy` };
  }
  if (record?.status === "proposed" && !record.providerSignature) return { kind: "sign" };
  if (local.openRefused !== undefined) return { kind: "wait", why: `its opening was refused (${local.openRefused}); watching the chain until openBy` };
  if (d.policy === Policy.replicate) {
    const k = local.group?.length ?? 0;
    if (!group || group.length !== k) return { kind: "wait", why: `${group?.length ?? 0} of the group's ${k} replicas known` };
    if (group.some((r) => r.status !== "signed")) return { kind: "wait", why: "waiting for every replica of the group to be signed by both parties" };
    const replicas = group.map((r) => ({ deal: r.deal, jobCreatorSig: r.jobCreatorSig, providerSig: r.providerSig }));
    if (replicas.some((r) => !r.jobCreatorSig || !r.providerSig)) return { kind: "wait", why: "the solver lists the group as signed without every signature" };
    return { kind: "openGroup", replicas: replicas as { deal: DealMessage; jobCreatorSig: Hex; providerSig: Hex }[] };
  }
  if (record?.status !== "signed" || !record.jobCreatorSignature)
    return { kind: "wait", why: `waiting for the job creator's signature (solver: ${record?.status ?? "no record"})` };
  return { kind: "open", jobCreatorSig: record.jobCreatorSignature };
}

function whileOpen({ local, now }: DealView): Step {
  const late = BigInt(now) > local.deal.deadline;
  if (late) return { kind: "giveUp", status: "failed", why: `its deadline ${local.deal.deadline} passed without a result on chain` };
  if (local.resultCid !== undefined) return { kind: "commit", resultCid: local.resultCid };
  return { kind: "run" };
}

function afterCommit(view: DealView): Step {
  const { local, chain, now } = view;
  const d = local.deal;
  if (d.policy === Policy.optimistic) {
    const closes = chain.committedAt + d.policyParam;
    return BigInt(now) > closes ? { kind: "finalize" } : { kind: "wait", why: `the challenge window is open until ${closes}` };
  }
  if (d.policy === Policy.audit) return { kind: "finalize" }; // the contract says when the draw is due
  if (d.policy === Policy.replicate) return groupSettlement(view);
  return { kind: "wait", why: `policy ${d.policy} settles without the provider` };
}

function groupSettlement({ local, group, now }: DealView): Step {
  const k = local.group?.length ?? 0;
  if (!group || group.length !== k) return { kind: "wait", why: `${group?.length ?? 0} of the group's ${k} replicas known: cannot tally` };
  const silent = group.find((r) => r.state === "open" && BigInt(now) > r.deal.deadline);
  if (silent) return { kind: "claimTimeout", id: silent.id, deal: silent.deal };
  if (group.every((r) => r.state === "committed" || r.state === "timedOut")) return { kind: "settleGroup", deals: group.map((r) => r.deal) };
  return { kind: "wait", why: `replicas still to finish: ${group.filter((r) => r.state === "open").length}` };
}

function disputed({ local, chain, mediationTimeoutSeconds, now }: DealView): Step {
  if (!local.inputsRestored) return { kind: "restoreInputs" };
  const ends = chain.challengedAt + BigInt(mediationTimeoutSeconds);
  if (BigInt(now) >= ends) return { kind: "claimMediationTimeout" };
  return { kind: "wait", why: `a mediator rules, until ${ends}` };
}
