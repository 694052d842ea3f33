// waitForReplicas: follow a replicate(k) job. The solver proposes k deals with k distinct
// providers; the job creator checks every one and signs them all (or none), watches each open
// and commit, then settles the group on chain: the majority result hash is paid, a minority is
// slashed, and a split goes to a mediator. The result downloaded is one the chain paid for.
import { join } from "node:path";
import type { Hex } from "viem";
import { subscribe } from "@lily/api";
import { claimMediationTimeout, claimTimeout, dealState, getDealEvents, settleReplicas, type DealStateName } from "@lily/chain";
import { LilyError, cidFromDigest, type DealRecord } from "@lily/protocol";
import type { JobCreatorContext } from "./context.ts";
import type { OnProgress } from "./progress.ts";
import { checkDeal } from "./checkDeal.ts";
import type { JobEntry } from "./journal.ts";
import type { JobResult, WaitParams } from "./waitForResult.ts";
import { noMatch } from "./noMatch.ts";
import { deliverResult } from "./deliverResult.ts";

export interface ReplicaOutcome {
  dealId: Hex;
  provider: Hex;
  state: DealStateName;
}

export async function waitForReplicas(ctx: JobCreatorContext, entry: JobEntry, k: number, p: WaitParams): Promise<JobResult & { replicas: ReplicaOutcome[] }> {
  const progress: OnProgress = p.onProgress ?? (() => {});
  const matchDeadline = Date.now() + (p.matchTimeoutMs ?? ctx.submit.matchTimeoutMs);
  const reported = new Set<string>();
  const once = (key: string, f: () => void) => void (reported.has(key) || (reported.add(key), f()));
  let wake = () => {};
  const sub = subscribe(ctx.opts.solverUrl, { jobOffer: entry.jobOfferId }, () => wake(), { onOpen: () => wake() });
  try {
    for (;;) {
      const done = entry.replicas ? await follow(ctx, entry, p, progress, once) : await signGroup(ctx, entry, k, progress, matchDeadline);
      if (done) return done;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, ctx.submit.pollMs);
        wake = () => (clearTimeout(t), resolve());
      });
    }
  } finally {
    sub.close();
  }
}

/** Sign all k proposals once they are all there and all pass the job creator's checks. */
async function signGroup(ctx: JobCreatorContext, entry: JobEntry, k: number, progress: OnProgress, matchDeadline: number): Promise<undefined> {
  const job = await ctx.solver.getJobOffer({ params: { id: entry.jobOfferId } });
  const records: DealRecord[] = [];
  for (const id of job.dealIds) records.push(await ctx.solver.getDeal({ params: { id } }));
  const proposed = records.filter((r) => r.status === "proposed");
  if (proposed.length < k) {
    if (Date.now() > matchDeadline) throw noMatch(job.rejections);
    return undefined;
  }
  // REJECT: replicas must be k distinct providers, or one provider could outvote the others
  if (new Set(proposed.map((r) => r.deal.provider.toLowerCase())).size !== k) {
    throw new LilyError({ code: "CONFLICT", field: "deal.provider", message: `refusing to sign: the ${k} replicas are not ${k} distinct providers` });
  }
  const { offers } = await ctx.solver.listResourceOffers({});
  const now = Math.floor(Date.now() / 1000);
  for (const r of proposed) {
    await checkDeal(ctx.domain, r.deal, { id: entry.jobOfferId, offer: entry.offer }, offers.find((o) => o.id === r.deal.resourceOffer), now);
  }
  // Journal first: a job creator must never lose track of a deal it signed.
  entry.replicas = proposed.map((r) => ({ dealId: r.id, deal: r.deal }));
  entry.dealId = proposed[0]!.id;
  entry.deal = proposed[0]!.deal;
  entry.stage = "signed";
  ctx.journal.put(entry);
  for (const r of proposed) {
    await ctx.solver.signDeal({ params: { id: r.id }, body: { signer: ctx.opts.account.address, signature: await ctx.signDeal(r.deal) } });
    progress({ stage: "matched", dealId: r.id, provider: r.deal.provider, price: r.deal.price });
  }
  progress({ stage: "signed", dealId: entry.dealId });
  return undefined;
}

async function follow(ctx: JobCreatorContext, entry: JobEntry, p: WaitParams, progress: OnProgress, once: (key: string, f: () => void) => void) {
  const replicas = entry.replicas!;
  const states = await Promise.all(replicas.map((r) => dealState(ctx.chain, { dealId: r.dealId })));
  const now = Date.now() / 1000;
  for (const [i, r] of replicas.entries()) {
    if (states[i] !== "none") once(`opened ${r.dealId}`, () => progress({ stage: "opened", dealId: r.dealId }));
    // A replica that opened and went silent: refund and slash it, so the group can settle.
    if (states[i] === "open" && now > Number(r.deal.deadline) + ctx.submit.deadlineGraceSeconds) {
      await claimTimeout(ctx.chain, { deal: r.deal }).catch((e) => {
        if (!(e instanceof LilyError && e.details.error === "DealsDeadlineNotPassed")) throw e;
      });
      progress({ stage: "timed-out", dealId: r.dealId });
    }
  }
  const waiting = states.some((s, i) => s === "open" || (s === "none" && now <= Number(replicas[i]!.deal.deadline)));
  if (waiting) return undefined;
  if (states.every((s) => s === "committed" || s === "timedOut") && states.includes("committed")) {
    await settleReplicas(ctx.chain, { deals: replicas.map((r) => r.deal) });
    return undefined;
  }
  if (states.includes("none") && states.includes("committed")) {
    // A replica never opened, so the group can never be tallied: the contract unwinds the
    // committed ones once the mediation timeout has passed since their deadline.
    for (const [i, r] of replicas.entries()) {
      if (states[i] !== "committed") continue;
      await claimMediationTimeout(ctx.chain, { deal: r.deal }).catch((e) => {
        if (!(e instanceof LilyError && e.details.error === "DealsMediationNotTimedOut")) throw e;
      });
    }
    return undefined;
  }
  if (states.includes("challenged") || states.includes("committed")) return undefined; // the mediator is ruling
  const paid = replicas.filter((_, i) => states[i] === "settled");
  if (paid.length === 0) {
    entry.stage = "refunded";
    ctx.journal.put(entry);
    throw new LilyError({ code: "DEADLINE_PASSED", field: "deal.deadline", message: `no replica was paid (${states.join(", ")}): you were refunded`, details: { states } });
  }
  // The chain paid these replicas for one result digest: that is the result.
  const first = paid[0]!;
  const events = await getDealEvents(ctx.chain, { dealId: first.dealId });
  const committed = events.find((e) => e.name === "ResultCommitted");
  const digest = committed?.name === "ResultCommitted" ? committed.args.resultDigest : undefined;
  if (!digest) throw new LilyError({ code: "INTERNAL", message: `replica ${first.dealId} was paid without a ResultCommitted event` });
  const resultCid = cidFromDigest(digest);
  progress({ stage: "committed", dealId: first.dealId, resultCid });
  const replicaOutcomes = replicas.map((r, i) => ({ dealId: r.dealId, provider: r.deal.provider, state: states[i]! }));
  const price = paid.reduce((sum, r) => sum + r.deal.price, 0n);
  const outDir = p.outDir ?? join(process.cwd(), "lily-results", entry.jobOfferId.slice(2, 14));
  const result = await deliverResult(ctx, entry, { dealId: first.dealId, deal: first.deal, resultCid, price, settlement: "settled", txs: { commit: committed?.txHash }, replicas: replicaOutcomes, outDir }, progress);
  return { ...result, replicas: replicaOutcomes };
}
