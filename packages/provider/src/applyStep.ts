// The I/O of each step nextStep decides: sign, open, run, commit, settle, restore, give up. A
// step that fails for a reason worth retrying throws (the provider logs it and the next pass
// decides again from the chain); a transaction the contract refuses because the chain has moved
// on (someone else finalized, tallied or claimed first) is only logged.
import { claimMediationTimeout, claimTimeout, finalize, getDealLogs, headBlock, locateTrustDeal, onTrustDeals, settleReplicas } from "@lily/chain";
import { cidDigest, isLilyError } from "@lily/protocol";
import { JOB_REFUSED_EXIT_CODE } from "@lily/executor";
import type { Hex } from "viem";
import { routedOf, type LocalDeal } from "./db.ts";
import type { DealView, Step } from "./nextStep.ts";
import { openGroup, openOne, sendSignature } from "./openSteps.ts";
import { refusal } from "./refusal.ts";
import { chainBatchesOf, type Committed } from "./batch/chainBatches.ts";
import { keepTrustBatch } from "./batch/trustBatchOf.ts";
import { drained, reportLater } from "./reportsInOrder.ts";
import { bestEffort, save, type StepContext } from "./stepContext.ts";

/** Contract errors that only mean "finalize later". */
const NOT_YET = new Set(["DealsChallengeWindowOpen", "DealsAuditDrawPending"]);
/** Time kept back from the deadline to get the commit mined. */
const COMMIT_MARGIN_MS = 2000;

export async function applyStep(ctx: StepContext, view: DealView, step: Step): Promise<void> {
  const { local } = view;
  switch (step.kind) {
    case "wait":
      return;
    case "sign":
      return sendSignature(ctx, local);
    case "open": {
      const opened = await openOne(ctx, local, step.jobCreatorSig);
      if (opened) await run(ctx, opened.deal, opened.txHash);
      return;
    }
    case "openGroup": {
      const opened = await openGroup(ctx, local, step.replicas);
      if (opened) await run(ctx, opened.deal, opened.txHash);
      return;
    }
    case "run":
      return run(ctx, local);
    case "commit":
      return commit(ctx, { ...local, resultCid: step.resultCid });
    case "finalize":
      return anyoneMay(ctx, local, "finalize", async () => {
        try {
          const { txHash, outcome } = await finalize(ctx.chain, { deal: local.deal });
          ctx.logger.info("deal finalized", { deal: local.id, txHash, outcome });
        } catch (e) {
          // REJECT (by the contract): too early, the challenge window is open or the audit draw pending
          if (!NOT_YET.has(refusal(e) ?? "")) throw e;
        }
      });
    case "claimTimeout":
      return anyoneMay(ctx, local, "claim a silent replica's timeout", async () => {
        const { txHash } = await claimTimeout(ctx.chain, { deal: step.deal });
        ctx.logger.info("silent replica timed out", { deal: local.id, replica: step.id, txHash });
      });
    case "settleGroup":
      return anyoneMay(ctx, local, "tally the replica group", async () => {
        const { txHash, majority, outcomes } = await settleReplicas(ctx.chain, { deals: step.deals });
        ctx.logger.info("replica group tallied", { deal: local.id, txHash, majority, outcomes: outcomes.map((o) => o.outcome) });
      });
    case "restoreInputs": {
      // The mediator re-runs the job from the store: whatever the job creator withdrew goes back.
      const blocks = await ctx.cache.restore(local.id, ctx.store);
      ctx.logger.info("job put back into the store for the mediator", { deal: local.id, blocks });
      save(ctx, { ...local, inputsRestored: true });
      return;
    }
    case "claimMediationTimeout":
      return anyoneMay(ctx, local, "unwind the dispute nobody ruled on", async () => {
        const { txHash } = await claimMediationTimeout(ctx.chain, { deal: local.deal });
        ctx.logger.info("dispute unwound: nobody ruled in time", { deal: local.id, txHash });
      });
    case "giveUp":
      return giveUp(ctx, local, step.status, step.why);
    case "record":
      ctx.logger.info("deal moved on", { deal: local.id, status: step.status, why: step.why });
      // The block that paid it is at or below the head: if the node loses it, the deal is followed again.
      if (step.status === "settled") ctx.db.blocks.relyOn(await headBlock(ctx.chain));
      save(ctx, { ...local, status: step.status, ...(step.status !== "committed" && { error: step.why }) });
      // Committed before a crash took the provider down: the solver has not heard of the result yet.
      if (local.status === "ran" && local.resultCid) await postResult(ctx, { ...local, resultCid: local.resultCid });
      return;
  }
}

/**
 * Run the job of an opened deal and commit its result; when it does not fit beside what runs, it
 * waits for the next pass. `openTx`: the transaction that has just opened it, not yet reported.
 */
async function run(ctx: StepContext, local: LocalDeal, openTx?: Hex): Promise<void> {
  let deal = local;
  if (deal.status === "signed") {
    // Opened by someone else (the job creator, another replica's provider): run it all the same.
    const { txHash, trustBatchNo } = await openingTx(ctx, deal);
    ctx.logger.info("deal opened by another party", { deal: deal.id, txHash });
    deal = save(ctx, { ...deal, status: "opened", ...(trustBatchNo !== undefined && { trustBatchNo }) });
    openTx = txHash;
  }
  const slot = ctx.gate.tryAcquire(deal.id, deal.needs);
  if ("wait" in slot) {
    ctx.logger.info("job waits for capacity", { deal: deal.id, why: slot.wait });
    if (openTx) report(ctx, deal, "opened", openTx);
    return;
  }
  let ran: LocalDeal & { resultCid: string };
  try {
    // A job that starts as its deal opens makes one report of both: "running", naming the opening.
    if (deal.reported !== "running") deal = report(ctx, deal, "running", deal.reported === "opened" ? undefined : openTx);
    const timeLeftMs = Number(deal.deal.deadline) * 1000 - ctx.clock() - COMMIT_MARGIN_MS;
    const source = ctx.cache.source(deal.id, ctx.store);
    const outcome = await ctx.strategy.produceResult(
      { dealId: deal.id, module: deal.module, inputs: deal.inputs, timeLeftMs },
      { store: ctx.store, source, executor: ctx.executor, logger: ctx.logger, workDir: ctx.workDir },
    );
    // A job refused for its inputs never reached an executor: no run time to count.
    const timed = outcome.exitCode !== JOB_REFUSED_EXIT_CODE && { durationMs: outcome.durationMs };
    ran = { ...deal, status: "ran" as const, resultCid: outcome.resultCid, exitCode: outcome.exitCode, ...timed };
    save(ctx, ran);
  } finally {
    slot.release();
  }
  await commit(ctx, ran);
}

/**
 * Tell the solver, in the background and after the deal's earlier reports (reportsInOrder.ts), that
 * the deal opened or runs; returns the deal as saved with the report noted, so it is sent once.
 */
function report(ctx: StepContext, deal: LocalDeal, status: "opened" | "running", txHash: Hex | undefined): LocalDeal {
  reportLater(ctx, deal.id, `${status} report`, () => ctx.report.status(deal.id, status, txHash ? { txHash } : {}));
  return save(ctx, { ...deal, reported: status });
}

/**
 * Commit the result (already saved: status `ran` with its CID). Results ready at the same moment
 * go out together in one `commitResults` (batch/chainBatches.ts); an item the batch skipped fails
 * here with the refusal its own `commitResult` would have met. A routed trust deal has no result
 * on chain: its commit is its settlement (settleTrustDeals, one call per batch), and its signed
 * Result, posted to the solver, is the result's only word.
 */
async function commit(ctx: StepContext, committing: LocalDeal & { resultCid: string }): Promise<void> {
  let local = committing;
  let settled: boolean;
  try {
    let r: Committed;
    if (onTrustDeals(ctx.chain.addresses, local.deal)) {
      // Submitted at once (the batch is found in the call): results ready together settle together.
      const settledIn = await chainBatchesOf(ctx.chain).settle(local);
      // Found again on the chain (its opening's blocks were lost, or it was never kept): remembered from now on.
      if (settledIn.trustBatchNo !== local.trustBatchNo) local = { ...local, trustBatchNo: settledIn.trustBatchNo };
      r = settledIn;
    } else {
      r = await chainBatchesOf(ctx.chain).commit({ deal: local.deal, resultDigest: cidDigest(local.resultCid) });
    }
    settled = r.settled;
    // Settled, the deal is no longer followed: if the node loses this block, lostBlocks.ts follows it again.
    if (settled) ctx.db.blocks.relyOn(r.block);
    ctx.logger.info("result committed", {
      deal: local.id,
      result: local.resultCid,
      exitCode: local.exitCode,
      txHash: r.txHash,
      gasUsed: r.gasUsed,
      batchSize: r.batchSize,
    });
  } catch (e) {
    // Already committed (a retry after a crash), or too late: the next pass reads the chain.
    if (refusal(e) === "DealsNotOpen" || refusal(e) === "DealsDeadlinePassed") return;
    throw e;
  }
  save(ctx, { ...local, status: settled ? "settled" : "committed", resultOwed: true });
  await postResult(ctx, local);
}

/**
 * Send the signed Result to the solver, and keep it as sent once the solver took it (or refused it:
 * sending again would not change its answer). One the solver did not answer is sent again by a
 * later pass (resendResults), until the job creator stops waiting for it.
 */
export async function postResult(ctx: StepContext, local: LocalDeal & { resultCid: string }): Promise<void> {
  // The solver hears the deal's earlier reports first.
  await drained(ctx, local.id);
  try {
    await ctx.report.result(local.id, { resultCid: local.resultCid, exitCode: local.exitCode ?? 0 });
  } catch (e) {
    ctx.logger.warn("result not sent", { deal: local.id, err: e });
    if (isLilyError(e, "UNREACHABLE")) return;
  }
  const now = ctx.db.get(local.id);
  if (now) save(ctx, { ...now, resultOwed: false });
}

async function giveUp(ctx: StepContext, local: LocalDeal, status: "expired" | "failed", why: string): Promise<void> {
  ctx.logger.warn("deal given up", { deal: local.id, status, why });
  const report = status === "expired" ? "rejected" : "timed-out";
  save(ctx, { ...local, status, error: why, reported: report });
  if (local.reported !== report) await bestEffort(ctx, `${report} report`, () => ctx.report.status(local.id, report, { error: why }));
}

/** A transaction any account may send: refused because another already sent it, it is only logged. */
async function anyoneMay(ctx: StepContext, local: LocalDeal, what: string, send: () => Promise<void>): Promise<void> {
  try {
    await send();
  } catch (e) {
    const name = refusal(e);
    if (name === undefined) throw e;
    ctx.logger.info(`could not ${what} yet`, { deal: local.id, refused: name });
  }
}

/** The transaction that opened a deal (and, routed to LilyTrustDeals, its batch), from its opening event. */
async function openingTx(ctx: StepContext, local: LocalDeal): Promise<{ txHash?: Hex; trustBatchNo?: bigint }> {
  if (onTrustDeals(ctx.chain.addresses, local.deal)) {
    const found = await locateTrustDeal(ctx.chain, routedOf(local)).catch(() => undefined);
    if (!found) return {};
    keepTrustBatch(ctx.chain, found.batchNo, found.leaves);
    return { txHash: found.txHash, trustBatchNo: found.batchNo };
  }
  const events = await getDealLogs(ctx.chain, { dealId: local.id }).catch(() => []);
  return { txHash: events.find((e) => e.name === "DealOpened")?.txHash };
}
