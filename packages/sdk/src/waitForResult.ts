// waitForResult: follow a submitted job to its end. It signs the deal the solver proposes (after
// checking it), watches the chain for the deal to open and settle, and downloads the result once
// its CID matches the digest committed on chain. A provider that misses the deadline is answered
// with claimTimeout: the job creator is refunded and the provider's collateral slashed.
// State is re-read on every event and on a timer, so a missed event costs only latency.
import type { Hex } from "viem";
import { subscribe } from "@lily/api";
import { claimTimeout, dealState, getDealEvents, type DealStateName } from "@lily/chain";
import { waitForReplicas } from "./waitForReplicas.ts";
import { LilyError, Policy, cidFromDigest, verifyRecord, type Deal, type DealRecord, type ResultManifest } from "@lily/protocol";
import type { JobCreatorContext } from "./context.ts";
import type { OnProgress } from "./progress.ts";
import { checkDeal } from "./checkDeal.ts";
import { deliverResult } from "./deliverResult.ts";
import { noMatch } from "./noMatch.ts";
import type { JobEntry } from "./journal.ts";

export interface WaitParams {
  jobOfferId: Hex;
  /** Where result files are written; default ./lily-results/<deal id prefix>. */
  outDir?: string;
  onProgress?: OnProgress;
  matchTimeoutMs?: number;
}

export interface JobResult {
  jobOfferId: Hex;
  dealId: Hex;
  deal: Deal;
  provider: Hex;
  price: bigint;
  resultCid: string;
  manifest: ResultManifest;
  outDir: string;
  stdout: string;
  exitCode: number;
  /**
   * The deal's state when the result was downloaded: `settled` (provider paid), or under a policy
   * that settles later, `committed` (challenge window open, or audit draw pending), `challenged`
   * (a mediator is re-running it) or `slashed` (the provider was proven wrong; you were refunded).
   */
  settlement: DealStateName;
  /** Under replicate(k): how each replica ended. */
  replicas?: { dealId: Hex; provider: Hex; state: DealStateName }[];
  txs: { open?: Hex; commit?: Hex };
}

export async function waitForResult(ctx: JobCreatorContext, p: WaitParams): Promise<JobResult> {
  const entry = ctx.journal.get(p.jobOfferId);
  if (!entry) throw new LilyError({ code: "NOT_FOUND", field: "jobOfferId", message: `no job ${p.jobOfferId} in this job creator's journal` });
  if (entry.offer.policy === Policy.replicate) return waitForReplicas(ctx, entry, Number(entry.offer.policyParam), p);
  const progress = p.onProgress ?? (() => {});
  const matchDeadline = Date.now() + (p.matchTimeoutMs ?? ctx.submit.matchTimeoutMs);
  const seen = new Set<string>();
  const once = (key: string, f: () => void) => {
    if (!seen.has(key)) {
      seen.add(key);
      f();
    }
  };

  let wake: () => void = () => {};
  const sub = subscribe(ctx.opts.solverUrl, { jobOffer: p.jobOfferId }, () => wake(), { onOpen: () => wake() });
  try {
    for (;;) {
      const done = await step(ctx, entry, p, progress, once, matchDeadline);
      if (done) return done;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, ctx.submit.pollMs);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  } finally {
    sub.close();
  }
}

type Once = (key: string, f: () => void) => void;

/** One pass over the job's state; returns the result when the job is finished. */
async function step(ctx: JobCreatorContext, entry: JobEntry, p: WaitParams, progress: OnProgress, once: Once, matchDeadline: number): Promise<JobResult | undefined> {
  if (!entry.dealId) {
    // Before a deal nothing is locked, so an unreachable solver only delays us until the match timeout.
    const job = await ctx.solver.getJobOffer({ params: { id: entry.jobOfferId } }).catch((e) => {
      if (e instanceof LilyError && e.code === "UNREACHABLE" && Date.now() <= matchDeadline) return undefined;
      throw e;
    });
    if (!job) return undefined;
    const candidate = job.dealIds[0] ? await ctx.solver.getDeal({ params: { id: job.dealIds[0] } }) : undefined;
    if (candidate && candidate.status === "proposed") {
      await signDeal(ctx, entry, candidate);
      progress({ stage: "matched", dealId: candidate.id, provider: candidate.deal.provider, price: candidate.deal.price });
      progress({ stage: "signed", dealId: candidate.id });
      return undefined;
    }
    if (Date.now() > matchDeadline) throw noMatch(job.rejections);
    return undefined;
  }

  // From here the chain is the authority; the solver only adds progress detail, so a solver that is
  // down (or restarting) does not stop the job.
  const dealId = entry.dealId;
  const deal = entry.deal!;
  const record = await ctx.solver.getDeal({ params: { id: dealId } }).catch(() => undefined);
  if (record?.status === "proposed" && !record.jobCreatorSignature) {
    // A crash between journaling the signature and posting it: post it again (signatures are
    // deterministic, so it is the same one).
    await ctx.solver.signDeal({ params: { id: dealId }, body: { signer: ctx.opts.account.address, signature: await ctx.signDeal(deal) } });
  }
  if (record?.status === "rejected" && (await dealState(ctx.chain, { dealId })) === "none") {
    entry.stage = "failed";
    entry.error = record.error ?? "the provider declined the deal";
    ctx.journal.put(entry);
    throw new LilyError({ code: "NO_MATCH", field: "deal", message: `the deal was not opened: ${entry.error}`, hint: "no funds were locked; retry the job" });
  }
  const state = await dealState(ctx.chain, { dealId });
  if (state === "none") {
    // Not open yet. If it can no longer open, nothing was locked: say so.
    if (Date.now() / 1000 > Number(deal.deadline)) {
      throw new LilyError({ code: "DEADLINE_PASSED", field: "deal.deadline", message: "the provider never opened the deal before its deadline", hint: "no funds were locked; retry the job" });
    }
    return undefined;
  }
  const events = await getDealEvents(ctx.chain, { dealId });
  const opened = events.find((e) => e.name === "DealOpened");
  const committed = events.find((e) => e.name === "ResultCommitted");
  once("opened", () => progress({ stage: "opened", dealId, txHash: opened?.txHash }));
  if (state === "open") {
    if (entry.stage !== "opened") {
      entry.stage = "opened";
      ctx.journal.put(entry);
    }
    if (record?.status === "running") once("running", () => progress({ stage: "running", dealId }));
    if (Date.now() / 1000 > Number(deal.deadline) + ctx.submit.deadlineGraceSeconds) {
      const { refunded, slashed } = await claimTimeoutIfDue(ctx, deal);
      if (refunded) {
        entry.stage = "refunded";
        ctx.journal.put(entry);
        progress({ stage: "timed-out", dealId });
        throw new LilyError({
          code: "DEADLINE_PASSED",
          field: "deal.deadline",
          message: `provider ${deal.provider} missed the deadline: refunded ${deal.price} and received its collateral ${slashed}`,
          details: { dealId, refunded: deal.price, slashed },
        });
      }
    }
    return undefined;
  }
  if (state === "timedOut" && !committed) {
    entry.stage = "refunded";
    ctx.journal.put(entry);
    throw new LilyError({ code: "DEADLINE_PASSED", field: "deal.deadline", message: `provider ${deal.provider} missed the deadline; the deal timed out and the price was refunded` });
  }
  // A result is on chain (settled, or waiting for its policy to settle it): the digest is the authority.
  const digest = committed?.name === "ResultCommitted" ? committed.args.resultDigest : undefined;
  if (!digest) throw new LilyError({ code: "INTERNAL", message: `deal ${dealId} is ${state} without a ResultCommitted event` });
  const resultCid = cidFromDigest(digest);
  if (record?.result) {
    // REJECT: the signed result the provider sent must be the one it committed on chain
    await verifyRecord(ctx.domain, "Result", record.result.result, record.result.signature, { signer: deal.provider, field: "result.signature" });
    if (record.result.result.result !== resultCid) {
      throw new LilyError({ code: "CID_MISMATCH", field: "result", message: `the provider's signed result ${record.result.result.result} differs from the CID committed on chain ${resultCid}` });
    }
  }
  once("committed", () => progress({ stage: "committed", dealId, resultCid }));
  return deliverResult(ctx, entry, { dealId, deal, resultCid, price: deal.price, settlement: state, txs: { open: opened?.txHash, commit: committed?.txHash }, outDir: p.outDir }, progress);
}

/** Check and sign the proposed deal, at most one deal per job offer (recorded before posting). */
async function signDeal(ctx: JobCreatorContext, entry: JobEntry, record: DealRecord): Promise<void> {
  const offers = await ctx.solver.listResourceOffers({});
  const resourceOffer = offers.offers.find((o) => o.id === record.deal.resourceOffer);
  await checkDeal(ctx.domain, record.deal, { id: entry.jobOfferId, offer: entry.offer }, resourceOffer, Math.floor(Date.now() / 1000));
  const signature = await ctx.signDeal(record.deal);
  entry.dealId = record.id;
  entry.deal = record.deal;
  entry.stage = "signed";
  ctx.journal.put(entry);
  await ctx.solver.signDeal({ params: { id: record.id }, body: { signer: ctx.opts.account.address, signature } });
}

async function claimTimeoutIfDue(ctx: JobCreatorContext, deal: Deal): Promise<{ refunded: boolean; slashed: bigint }> {
  try {
    await claimTimeout(ctx.chain, { deal });
    return { refunded: true, slashed: deal.collateral };
  } catch (e) {
    // The chain's clock may lag ours by a block; the next pass retries.
    if (e instanceof LilyError && e.details.error === "DealsDeadlineNotPassed") return { refunded: false, slashed: 0n };
    throw e;
  }
}
