// waitForResult: follow a submitted job to its end, for every policy, single deals and replica
// groups alike. Each pass reads the world (observeJob), asks the pure nextStep what to do, does it
// (applyStep), and waits for a solver event or the time nextWake gives: the next deadline the view
// names, a slow fallback while the solver's subscription is open, a short poll while it is not.
// A missed event costs only latency; a crash costs nothing, since the journal and the chain hold
// everything the next run needs.
import type { Hex } from "viem";
import { onTrustDeals } from "@lily/chain";
import { LilyError, cidFromDigest, isLilyError, toWire, type JobOfferRecord } from "@lily/protocol";
import type { JobCreatorContext } from "./context.ts";
import type { OnProgress, Progress } from "./progress.ts";
import { awaitsOwnOpening, nextStep, type ChainDeal, type JobView } from "./nextStep.ts";
import { observeJob, unanswered, type LoopMemory } from "./observeJob.ts";
import { applyStep } from "./applyStep.ts";
import { nextWakeMs } from "./nextWake.ts";
import { alarm } from "./alarm.ts";
import { watchSolvers } from "./watchSolvers.ts";
import { pushedRecords } from "./pushedRecords.ts";
import type { JobResult } from "./deliverResult.ts";

export type { JobResult } from "./deliverResult.ts";

export interface WaitParams {
  jobOfferId: Hex;
  /** Where result files are written; default ./lily-results/<deal id prefix>. */
  outDir?: string;
  onProgress?: OnProgress;
  matchTimeoutMs?: number;
  /**
   * Stop waiting. Before a deal is signed (or once every signed deal lapsed) the job offer is
   * cancelled and NO_MATCH thrown; after, the signal's reason is thrown and the job is left in the
   * journal to be followed again, since a signed deal may still open.
   */
  signal?: AbortSignal;
  /**
   * The solver's answer to the job offer's post (`SubmittedJob.posted`): the loop's first read of
   * the job offer takes it rather than asking the solver again (with one solver).
   */
  posted?: JobOfferRecord;
}

export async function waitForResult(base: JobCreatorContext, p: WaitParams): Promise<JobResult> {
  // One solver: the records its events bring serve the loop's next reads of them (pushedRecords.ts).
  const pushed = (base.opts.solverUrls?.length ?? 1) <= 1 ? pushedRecords(base.solver) : undefined;
  const ctx = pushed ? { ...base, solver: pushed.solver } : base;
  if (pushed && p.posted?.id.toLowerCase() === p.jobOfferId.toLowerCase()) pushed.records.put({ type: "job-offer", record: toWire(p.posted) });
  const entry = ctx.journal.get(p.jobOfferId);
  if (!entry) throw new LilyError({ code: "NOT_FOUND", field: "jobOfferId", message: `no job ${p.jobOfferId} in this job creator's journal` });
  // REJECT: a job offer refused before it was signed was never posted: there is nothing to follow
  if (!entry.signature) throw new LilyError({ code: "NO_MATCH", field: "jobOffer", message: entry.error ?? "the job offer was never posted" });
  const progress = reportOnce(p.onProgress ?? (() => {}));
  const memory: LoopMemory = {
    matchDeadlineMs: Date.now() + (p.matchTimeoutMs ?? ctx.submit.matchTimeoutMs),
    openGraceMs: ctx.submit.openGraceMs,
    openTried: false,
    events: new Map(),
    routed: { located: new Map() },
    down: {},
  };
  const wake = alarm();
  p.signal?.addEventListener("abort", () => wake.ring(), { once: true });
  const solvers = watchSolvers(
    ctx,
    p.jobOfferId,
    { news: () => wake.ring(), dropped: () => wake.atMost(ctx.submit.pollMs) },
    { progress: p.onProgress !== undefined, signedResultOnly: onTrustDeals(ctx.chain.addresses, entry.offer) },
    pushed?.records,
  );
  try {
    // The first read does not wait for the subscription to open: in a fresh `lily run` process
    // opening it (loading the WebSocket client, the handshake) is on the critical path, and
    // waiting for it made `lily run` 100-300 ms slower in both alternating bench pairs. The
    // opening rings the alarm, so the read after it covers what happened before it was there.
    for (;;) {
      wake.clear(); // what came before this read is in it
      const view = await observeJob(ctx, entry, memory, p.signal?.aborted ?? false);
      for (const event of progressOf(view)) progress(event);
      if (entry.stage === "signed" && view.signed.some((s) => openedOnChain(view.chain.deals[s.dealId]))) {
        entry.stage = "opened";
        ctx.journal.put(entry);
      }
      // Where a routed deal's search starts: the journal's (kept when it was signed), else a block seen while it was unopened.
      if (entry.trustFromBlock !== undefined) memory.routed.fromBlock = BigInt(entry.trustFromBlock);
      const step = nextStep(view);
      let done: JobResult | undefined;
      let waitMs: number;
      try {
        done = await applyStep({ ctx, entry, memory, progress, k: view.k, ...(p.outDir && { outDir: p.outDir }) }, step);
        delete memory.down.step;
        waitMs = nextWakeMs(view, step, { pollMs: ctx.submit.pollMs, fallbackPollMs: ctx.submit.fallbackPollMs, subscribed: solvers.open() });
      } catch (e) {
        // A peer a step needed did not answer (a solver restarting, a store or node away): the
        // next pass decides again, from fresh state; only a long silence ends the wait.
        if (!isLilyError(e, "UNREACHABLE")) throw e;
        unanswered(ctx, memory, "step", e);
        waitMs = ctx.submit.pollMs;
      }
      if (done) return done;
      // Deals are signed and may still open: stopping leaves them in the journal, nothing cancelled.
      if (p.signal?.aborted) throw p.signal.reason;
      await wake.sleep(waitMs);
    }
  } finally {
    solvers.close();
  }
}

/** What the caller hears about, from a view: openings, runs, commits, timeouts. */
function progressOf(v: JobView): Progress[] {
  const out: Progress[] = [];
  for (const s of v.signed) {
    const c = v.chain.deals[s.dealId];
    if (!c || !openedOnChain(c)) continue;
    out.push({ stage: "opened", dealId: s.dealId, ...(c.openTx && { txHash: c.openTx }) });
    if (v.solver?.deals.find((d) => d.id === s.dealId)?.status === "running") out.push({ stage: "running", dealId: s.dealId });
    if (c.digest) out.push({ stage: "committed", dealId: s.dealId, resultCid: cidFromDigest(c.digest), ...(c.commitTx && { txHash: c.commitTx }) });
    // A routed trust deal has no digest: once settled, its provider's signed Result (checked by the reader) names the result.
    const signed = c.routed && c.state === "settled" ? v.solver?.deals.find((d) => d.id === s.dealId)?.result?.result : undefined;
    if (signed?.dealId === s.dealId) out.push({ stage: "committed", dealId: s.dealId, resultCid: signed.result, ...(c.commitTx && { txHash: c.commitTx }) });
  }
  return out;
}

/**
 * Whether the chain shows this deal opened. A routed deal's state is its (provider, nonce)'s, which
 * another deal under the same nonce may hold: it is this deal's only once its own opening is found
 * (routedDeal.ts), until then it is not reported or journaled as opened.
 */
function openedOnChain(c: ChainDeal | undefined): boolean {
  return c !== undefined && c.state !== "none" && !awaitsOwnOpening(c);
}

/** Report each event once per deal (the loop sees the same state many times). */
function reportOnce(onProgress: OnProgress): OnProgress {
  const seen = new Set<string>();
  return (p) => {
    const key = `${p.stage}:${"dealId" in p ? p.dealId : ""}`;
    if (seen.has(key)) return;
    seen.add(key);
    onProgress(p);
  };
}
