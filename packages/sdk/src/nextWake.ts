// How long the wait loop may sleep when no solver event comes: the other half of nextStep. While
// the solver's change subscription is open, every change the job creator waits for from another
// party (a signed proposal, an opening, a commit, a signed result) arrives as an event, so the
// timer is only a slow fallback for a missed one. What no event announces still needs a look on
// time: a deadline nextStep acts on (the match timeout, the open grace, openBy, a deal's deadline,
// the signed-result grace, a routed trust deal's result grace, a mediation timeout) ends the sleep when it is due, computed from the
// view; and a wait for the chain alone (a peer that did not answer, a log lagging its state, a
// replica group's tally and rulings) or for a subscription that is down polls at the short interval.
import type { ChainDeal, JobView, Step } from "./nextStep.ts";
import { SIGNED_RESULT_GRACE_SECONDS, awaitsOwnOpening } from "./nextStep.ts";
import { LOG_LAG_GRACE_SECONDS } from "./routedDeal.ts";

export interface WakeSettings {
  /** The short interval: while the subscription is down, or for what only a read can tell. */
  pollMs: number;
  /** The fallback interval while the subscription is open. */
  fallbackPollMs: number;
  /** Whether the solver's change subscription is open. */
  subscribed: boolean;
}

/** Milliseconds until the next pass must run on its own, after `step` was applied to `v`. */
export function nextWakeMs(v: JobView, step: Step, s: WakeSettings): number {
  const base = s.subscribed && !onlyAReadTells(v) ? s.fallbackPollMs : s.pollMs;
  // Its own step changed what the view shows, so the view's deadlines no longer hold. After
  // signing, the next deadline of its own is the open grace, which starts now; after any other
  // step (rare: an opening, a claim, a tally) the next read comes soon.
  if (step.do === "sign") return Math.min(base, v.openGraceMs);
  if (step.do !== "wait") return s.pollMs;
  const due = deadlinesMs(v).filter((t) => t > v.nowMs);
  return Math.min(base, ...due.map((t) => t - v.nowMs));
}

/** Whether what the job waits for is told by no solver event, so only reading again shows it. */
function onlyAReadTells(v: JobView): boolean {
  if (!v.solver) return true;
  if (v.signed.length === 0) return false;
  const chain = v.signed.map((s) => v.chain.deals[s.dealId]);
  if (chain.some((c) => c === undefined)) return true;
  const deals = chain as ChainDeal[];
  // A result on chain whose ResultCommitted log was not read yet (a node's log index lagging its state).
  if (deals.some((c) => !c.routed && c.state !== "none" && c.state !== "open" && c.state !== "timedOut" && c.digest === undefined)) return true;
  // A routed deal whose (provider, nonce) shows a state but whose own opening is not found yet: only the chain's logs tell.
  if (deals.some(awaitsOwnOpening)) return true;
  // A routed trust deal whose signed result is in: what is left is its settlement, a chain event the solver need not relay.
  if (v.signed.some((s, i) => deals[i]!.routed && deals[i]!.state === "open" && v.solver?.deals.find((d) => d.id === s.dealId)?.result)) return true;
  // A group past its replicas' results waits for the tally and the mediator's rulings: chain events the solver does not relay.
  return v.k > 1 && deals.every((c) => c.state !== "none" && c.state !== "open");
}

/** The local times (ms) at which nextStep could act on its own, given this view; some may be past. */
function deadlinesMs(v: JobView): number[] {
  if (v.signed.length === 0) return v.aborted ? [] : [v.matchDeadlineMs + 1];
  // A chain deadline in local time: the chain's clock is read with the view, so a moment `at`
  // on it comes (at - now) seconds after the read; a later block can only show it later.
  const onChain = (at: bigint) => v.nowMs + Number(at - v.chain.now) * 1000;
  const out: number[] = [];
  const chain = v.signed.map((s) => v.chain.deals[s.dealId]);
  if (chain.every((c) => c?.state === "none")) {
    const openBy = v.signed.reduce((min, s) => (s.deal.openBy < min ? s.deal.openBy : min), v.signed[0]!.deal.openBy);
    out.push(onChain(openBy + 1n));
    const records = v.signed.map((s) => v.solver?.deals.find((d) => d.id === s.dealId));
    if (!v.openTried && records.every((r) => r?.providerSignature)) out.push(Math.max(...records.map((r) => r!.updatedAt)) + v.openGraceMs);
  }
  for (const [i, s] of v.signed.entries()) {
    const c = chain[i];
    if (c?.state === "open") out.push(onChain(s.deal.deadline + BigInt(v.deadlineGraceSeconds) + 1n));
    if (c?.committedAt !== undefined) out.push(onChain(c.committedAt + SIGNED_RESULT_GRACE_SECONDS));
    // A routed deal whose own opening is not found reads as never opened past its openBy and the log's grace (routedDeal.ts).
    if (c && awaitsOwnOpening(c)) out.push(onChain(s.deal.openBy + LOG_LAG_GRACE_SECONDS + 1n));
    // A routed deal settled without its signed result ends once the result's grace after the deadline is over.
    if (c?.routed && c.state === "settled") out.push(onChain(s.deal.deadline + SIGNED_RESULT_GRACE_SECONDS + 1n));
    if (c?.state === "challenged") out.push(onChain(c.challengedAt + v.chain.mediationTimeoutSeconds));
  }
  return out;
}
