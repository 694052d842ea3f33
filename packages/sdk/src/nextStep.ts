// The job creator's "what next": a pure function from what it knows about one job (its journal,
// the solver's records, the chain's states, the time) to the one action to take now. The wait
// loop (waitForResult.ts) reads the world into a JobView, asks nextStep, applies the step and
// repeats. Single deals and replica groups go through the same step: a single deal is a group of
// one, except that a group is tallied on chain (settleReplicas) before anyone is paid.
import type { Address, Hex } from "viem";
import type { DealStateName } from "@lily/chain";
import { LilyError, SIGNED_RESULT_GRACE_SECONDS, cidFromDigest, type DealMessage, type DealRecord, type JobOfferRecord } from "@lily/protocol";

export interface SignedDeal {
  dealId: Hex;
  deal: DealMessage;
  /** A deal routed to LilyTrustDeals: the nonce its provider signed under, which the job creator signed too. */
  trustNonce: bigint | undefined;
}

/** What the chain says of one signed deal. */
export interface ChainDeal {
  state: DealStateName;
  /** The digest of the committed result (from ResultCommitted), once there is one. */
  digest?: Hex;
  openTx?: Hex;
  commitTx?: Hex;
  /** Unix seconds of the block the result was committed in, once there is one. */
  committedAt?: bigint;
  /** Unix seconds when mediation was requested; 0 when it was not. */
  challengedAt: bigint;
  /**
   * A trust deal routed to LilyTrustDeals: its states are none, open, settled and timedOut, and
   * there is no result digest on chain (commitTx is then the settling transaction).
   */
  routed?: boolean;
}

/**
 * How long after the commit the job creator waits for the provider's signed Result before it
 * delivers on the chain's digest alone: the chain is the authority, the signed Result only a
 * second word from the provider, so a provider that never sends it cannot hold the job forever.
 * (protocol's, shared with the provider, which keeps sending an untaken Result until then.)
 */
export { SIGNED_RESULT_GRACE_SECONDS };

/**
 * A routed deal whose (provider, nonce) shows a state but whose own opening is not found yet: the
 * state may be a twin's under the same nonce (routedDeal.ts), so it is not yet this deal's.
 */
export function awaitsOwnOpening(c: ChainDeal): boolean {
  return c.routed === true && c.state !== "none" && c.openTx === undefined;
}

export interface JobView {
  /** How many deals the job needs: k under replicate(k), else 1. */
  k: number;
  /** The deals this job creator signed for the job (one, or a whole group) and journaled; empty before. */
  signed: readonly SignedDeal[];
  /** Deals this job creator signed that can never open (their openBy passed): never signed again. */
  lapsed: readonly Hex[];
  /** The solver's records: the job offer and its deals. Undefined when the solver did not answer. */
  solver?: { job?: JobOfferRecord; deals: readonly DealRecord[] };
  /**
   * The chain's time (unix seconds) and the state of every signed deal, read at or after the block
   * that time is from: so an unopened deal past its openBy here can never open.
   */
  chain: { now: bigint; deals: Readonly<Record<Hex, ChainDeal>>; mediationTimeoutSeconds: bigint };
  /** The job creator's clock, ms; the match timeout is on this clock. */
  nowMs: number;
  matchDeadlineMs: number;
  aborted: boolean;
  /** Seconds past a deal's deadline before claiming its timeout (the chain's clock may lag a block). */
  deadlineGraceSeconds: number;
  /** How long the providers have to open a fully signed deal (or group) before the job creator does. */
  openGraceMs: number;
  /** Whether the job creator already tried to open the signed deals itself. */
  openTried: boolean;
}

/** How a finished job is handed to the caller (see deliverResult.ts). */
export interface Delivery {
  dealId: Hex;
  deal: DealMessage;
  resultCid: string;
  /** What was paid: the price, or the sum of the paid replicas' prices. */
  price: bigint;
  settlement: DealStateName;
  txs: { open?: Hex; commit?: Hex };
  replicas?: { dealId: Hex; provider: Address; state: DealStateName }[];
}

export type Step =
  | { do: "wait"; for: string }
  /** Check every proposal (the whole group under replicate) and sign them all, or none. */
  | { do: "sign"; proposals: DealRecord[] }
  /** The journal says signed but the solver lacks the signature (a crash between the two): post it again. */
  | { do: "post-signatures"; deals: SignedDeal[] }
  /** Every signature is there and no provider opened in the grace time: open the deals ourselves. */
  | { do: "open"; deals: { deal: DealMessage; providerSig: Hex }[] }
  /** The signed deals can never open: nothing was locked; forget them and match again. */
  | { do: "lapse"; lapsedDeals: Hex[]; why: string }
  | { do: "claim-timeout"; deals: DealMessage[] }
  | { do: "claim-mediation-timeout"; deals: DealMessage[] }
  | { do: "settle-group"; deals: DealMessage[] }
  | { do: "deliver"; delivery: Delivery }
  /** Nothing is or can be locked, and no match will come: cancel the job offer and say why. */
  | { do: "give-up"; reason: string; rejections: Record<string, string> }
  /** The job ended without a result to deliver. */
  | { do: "end"; stage: "refunded" | "failed"; error: LilyError };

/** Terminal on-chain states: nothing more will happen to the deal. */
const FINAL: readonly DealStateName[] = ["settled", "slashed", "timedOut"];

export function nextStep(v: JobView): Step {
  return v.signed.length === 0 ? matching(v) : following(v);
}

/** No deal signed (or every signed one lapsed): wait for proposals and sign them, or give up. */
function matching(v: JobView): Step {
  const late = v.nowMs > v.matchDeadlineMs;
  if (v.aborted) return giveUp(v, "the job creator stopped waiting");
  if (!v.solver?.job) return late ? giveUp(v, "the solver did not answer before the match timeout") : { do: "wait", for: "the solver" };
  const job = v.solver.job;
  if (job.status === "expired" || job.status === "cancelled" || job.status === "abandoned") return giveUp(v, `the solver holds the job offer as ${job.status}`);
  // Past the match timeout nothing new is signed, even a proposal that just arrived.
  if (late)
    return giveUp(
      v,
      v.lapsed.length
        ? `no deal opened before the match timeout (${v.lapsed.length} signed deal(s) lapsed unopened)`
        : "no provider matched before the match timeout",
    );
  // The job creator signs last, once each provider has: a proposal a provider declines then never
  // carries the job creator's signature, so nothing it signed can hold its escrow or its job
  // while the job is matched again (signing first, it would have to wait out the deal's openBy).
  // A proposal already past its openBy (a solver that restarted, or lags, has not expired it yet)
  // could never open: it is passed over, not refused, so the job waits for the next match.
  const nowSeconds = BigInt(Math.floor(v.nowMs / 1000));
  const proposals = v.solver.deals.filter((d) => d.status === "proposed" && d.providerSignature && !v.lapsed.includes(d.id) && d.deal.openBy > nowSeconds);
  const group = v.k === 1 ? proposals.slice(0, 1) : wholeGroup(proposals, v.k);
  if (group.length === v.k) return { do: "sign", proposals: group };
  return { do: "wait", for: v.k === 1 ? "a proposal its provider signed" : `a group of ${v.k} proposals their providers signed` };
}

/** The first k proposals that name one group (the same `replicas` hash); fewer when none is whole yet. */
function wholeGroup(proposals: readonly DealRecord[], k: number): DealRecord[] {
  const byGroup = new Map<string, DealRecord[]>();
  for (const p of proposals) byGroup.set(p.deal.replicas, [...(byGroup.get(p.deal.replicas) ?? []), p]);
  return [...byGroup.values()].find((g) => g.length === k) ?? [];
}

function giveUp(v: JobView, reason: string): Step {
  return { do: "give-up", reason, rejections: v.solver?.job?.rejections ?? {} };
}

/** Deals signed: the chain is the authority; the solver only adds signatures, progress and results. */
function following(v: JobView): Step {
  const states = v.signed.map((s) => v.chain.deals[s.dealId]);
  if (states.some((s) => s === undefined)) return { do: "wait", for: "the chain" };
  const chain = states as ChainDeal[];
  // A routed deal's state is its (provider, nonce)'s, which a twin under the same nonce may hold: it
  // is this deal's only once its own opening is found (routedDeal.ts). Until then nothing is done on it.
  if (chain.some(awaitsOwnOpening)) return { do: "wait", for: "the deal's own opening in the chain's logs" };
  if (chain.every((c) => c.state === "none")) return unopened(v);
  // REJECT: a provider past its deadline (plus grace for the chain's clock) is timed out: refund and its collateral
  const silent = v.signed.filter((s, i) => chain[i]!.state === "open" && v.chain.now > s.deal.deadline + BigInt(v.deadlineGraceSeconds));
  if (silent.length > 0) return { do: "claim-timeout", deals: silent.map((s) => s.deal) };
  return v.k === 1 ? single(v, v.signed[0]!, chain[0]!) : group(v, chain);
}

/** Signed, not on chain yet: the providers open it by openBy; after that it never can. */
function unopened(v: JobView): Step {
  const openBy = v.signed.reduce((min, s) => (s.deal.openBy < min ? s.deal.openBy : min), v.signed[0]!.deal.openBy);
  if (v.chain.now > openBy) return { do: "lapse", lapsedDeals: v.signed.map((s) => s.dealId), why: `not opened by its openBy ${openBy}: nothing was locked` };
  if (!v.solver) return { do: "wait", for: "the provider to open the deal (the solver did not answer)" };
  const records = v.signed.map((s) => v.solver!.deals.find((d) => d.id === s.dealId));
  const unposted = v.signed.filter((_, i) => records[i]?.status === "proposed" && !records[i]!.jobCreatorSignature);
  if (unposted.length > 0) return { do: "post-signatures", deals: unposted };
  if (records.every((r) => r?.providerSignature)) {
    const signedAt = Math.max(...records.map((r) => r!.updatedAt));
    if (!v.openTried && v.nowMs >= signedAt + v.openGraceMs) {
      return { do: "open", deals: v.signed.map((s, i) => ({ deal: s.deal, providerSig: records[i]!.providerSignature! })) };
    }
  }
  return { do: "wait", for: `the provider${v.k > 1 ? "s" : ""} to open by ${openBy}` };
}

function single(v: JobView, s: SignedDeal, c: ChainDeal): Step {
  if (c.state === "open") return { do: "wait", for: "the result" };
  if (c.routed && c.state === "settled") return routedSettled(v, s, c);
  if (c.state === "timedOut" && !c.digest) {
    return end("refunded", "DEADLINE_PASSED", `provider ${s.deal.provider} missed the deadline; the deal timed out and the price was refunded`, {
      dealId: s.dealId,
    });
  }
  // A result is on chain (settled, or waiting for its policy to settle it): deliver it once the provider stands behind it.
  const found = resultFor(v, s, c);
  if (found.step) return found.step;
  return {
    do: "deliver",
    delivery: { dealId: s.dealId, deal: s.deal, resultCid: found.cid!, price: s.deal.price, settlement: c.state, txs: { open: c.openTx, commit: c.commitTx } },
  };
}

function group(v: JobView, chain: ChainDeal[]): Step {
  const st = chain.map((c) => c.state);
  if (st.includes("open") || st.includes("none")) return { do: "wait", for: "every replica's result" };
  // Every replica committed or timed out, at least one committed: the tally decides who is paid.
  if (st.every((s) => s === "committed" || s === "timedOut") && st.includes("committed")) return { do: "settle-group", deals: v.signed.map((s) => s.deal) };
  const stuck = v.signed.filter((_, i) => chain[i]!.state === "challenged" && v.chain.now >= chain[i]!.challengedAt + v.chain.mediationTimeoutSeconds);
  if (stuck.length > 0) return { do: "claim-mediation-timeout", deals: stuck.map((s) => s.deal) };
  if (!st.every((s) => FINAL.includes(s))) return { do: "wait", for: "the mediator to rule on the group" };
  const paid = v.signed.filter((_, i) => st[i] === "settled");
  if (paid.length === 0) return end("refunded", "DEADLINE_PASSED", `no replica was paid (${st.join(", ")}): you were refunded`, { states: st });
  // The chain paid these replicas for one result: deliver it through the first whose provider stands behind it.
  const price = paid.reduce((sum, s) => sum + s.deal.price, 0n);
  const replicas = v.signed.map((s, i) => ({ dealId: s.dealId, provider: s.deal.provider, state: st[i]! }));
  let waitingFor: Step | undefined;
  for (const s of paid) {
    const c = chain[v.signed.indexOf(s)]!;
    const found = resultFor(v, s, c);
    if (found.cid)
      return {
        do: "deliver",
        delivery: { dealId: s.dealId, deal: s.deal, resultCid: found.cid, price, settlement: "settled", txs: { open: c.openTx, commit: c.commitTx }, replicas },
      };
    if (found.step?.do === "end") return found.step;
    waitingFor ??= found.step;
  }
  return waitingFor ?? { do: "wait", for: "a paid replica's signed result" };
}

/**
 * A routed trust deal the provider settled: it declared delivery and was paid at once, and the
 * chain holds no digest, so its signed Result (checked by the reader: signed by the deal's
 * provider) is the result's only word. LilyTrustDeals settles only at or before the deadline, so
 * by the deadline plus SIGNED_RESULT_GRACE_SECONDS a provider that delivered has sent it. Past
 * that, waiting longer cannot help and nothing on chain is left to claim (the price is paid, the
 * collateral returned): the job ends `failed` with DEADLINE_PASSED naming `result`, rather than
 * waiting forever for a result the provider was paid for and never sent.
 */
function routedSettled(v: JobView, s: SignedDeal, c: ChainDeal): Step {
  const signed = v.solver?.deals.find((d) => d.id === s.dealId)?.result?.result;
  if (!signed) {
    if (v.chain.now > s.deal.deadline + SIGNED_RESULT_GRACE_SECONDS) {
      return end(
        "failed",
        "DEADLINE_PASSED",
        `provider ${s.deal.provider} settled the trust deal (it was paid) but sent no signed result by its deadline ${s.deal.deadline} plus ${SIGNED_RESULT_GRACE_SECONDS}s`,
        { dealId: s.dealId, settled: true },
        "result",
      );
    }
    return { do: "wait", for: "the provider's signed result" };
  }
  // REJECT: a signed Result names the deal it is for; one for another deal is not this deal's result
  if (signed.dealId !== s.dealId) {
    return end("failed", "CID_MISMATCH", `the provider's signed result is for deal ${signed.dealId}, not ${s.dealId}`, { dealId: s.dealId }, "result.dealId");
  }
  return {
    do: "deliver",
    delivery: {
      dealId: s.dealId,
      deal: s.deal,
      resultCid: signed.result,
      price: s.deal.price,
      settlement: "settled",
      txs: { open: c.openTx, commit: c.commitTx },
    },
  };
}

/**
 * The committed result's CID once the provider's signed Result (checked by the reader) names it,
 * or, when none came within SIGNED_RESULT_GRACE_SECONDS of the commit, on the chain's word alone.
 */
function resultFor(v: JobView, s: SignedDeal, c: ChainDeal): { cid?: string; step?: Step } {
  if (!c.digest) return { step: { do: "wait", for: "the ResultCommitted event" } };
  const cid = cidFromDigest(c.digest);
  const signed = v.solver?.deals.find((d) => d.id === s.dealId)?.result?.result;
  if (!signed) {
    if (c.committedAt !== undefined && v.chain.now >= c.committedAt + SIGNED_RESULT_GRACE_SECONDS) return { cid };
    return { step: { do: "wait", for: "the provider's signed result" } };
  }
  // REJECT: the signed result the provider sent must be the one it committed on chain
  if (signed.result !== cid || signed.dealId !== s.dealId) {
    return {
      step: end(
        "failed",
        "CID_MISMATCH",
        `the provider's signed result ${signed.result} differs from the result committed on chain ${cid}`,
        { dealId: s.dealId },
        "result",
      ),
    };
  }
  return { cid };
}

function end(
  stage: "refunded" | "failed",
  code: "DEADLINE_PASSED" | "CID_MISMATCH",
  message: string,
  details: Record<string, unknown>,
  field = "deal.deadline",
): Step {
  return { do: "end", stage, error: new LilyError({ code, field, message, details }) };
}
