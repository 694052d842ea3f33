// Signing and opening. Every signature is checked with protocol's strict verifyRecord (exactly
// what the contract's ECDSA accepts) before a transaction carries it. A deal is signed and checked
// in the form its contract takes (signDealFor / verifyDealSignature): a routed trust deal as its
// TrustDeal under LilyTrustDeals, every other deal as itself under LilyDeals. An opening the contract
// refuses (the job creator's escrow emptied, a signature it will not take, anything) is reported
// to the solver, but ends nothing: the deal stays followed until its openBy, and if anyone opens
// it by then the provider runs it. `DealsAlreadyOpened` only means the chain is to be looked at.
import type { Hex } from "viem";
import { onTrustDeals, openReplicas, signDealFor, verifyDealSignature } from "@lily/chain";
import { isLilyError, verifyRecord, type DealMessage } from "@lily/protocol";
import { routedOf, type LocalDeal } from "./db.ts";
import { refusal } from "./refusal.ts";
import { chainBatchesOf, type TrustBatchRef } from "./batch/chainBatches.ts";
import { keepTrustBatch } from "./batch/trustBatchOf.ts";
import { bestEffort, save, type StepContext } from "./stepContext.ts";

/**
 * Send this provider's signature over the deal to the solver (again: ECDSA signing is
 * deterministic). A routed trust deal is first given its nonce, stored before anything is signed,
 * so every signature this provider sends for it is over the same TrustDeal.
 */
export async function sendSignature(ctx: StepContext, local: LocalDeal): Promise<void> {
  const routed = onTrustDeals(ctx.chain.addresses, local.deal);
  const numbered = routed && local.trustNonce === undefined ? ctx.db.withNextTrustNonce(local, Math.floor(ctx.clock() / 1000)) : local;
  const signature = await signDealFor(ctx.account, ctx.chain.addresses, routedOf(numbered));
  const trustNonce = routed ? numbered.trustNonce : undefined;
  await ctx.solver.signDeal({ params: { id: local.id }, body: { signer: ctx.account.address, signature, ...(trustNonce !== undefined && { trustNonce }) } });
  ctx.logger.info("deal signed", {
    deal: local.id,
    jobCreator: local.deal.jobCreator,
    price: local.deal.price,
    ...(trustNonce !== undefined && { trustNonce }),
  });
}

/** A deal this provider just opened, and the transaction that opened it (for its first report, applyStep.ts's run). */
export interface Opened {
  deal: LocalDeal;
  txHash: Hex;
}

/**
 * Open a single deal; returns the deal as opened, or undefined if it did not open (yet). Deals
 * ready at the same moment open together in one `openDeals` (batch/chainBatches.ts); an item the
 * batch skipped fails here with the refusal its own `openDeal` would have met.
 */
export async function openOne(ctx: StepContext, local: LocalDeal, jobCreatorSig: Hex): Promise<Opened | undefined> {
  try {
    // REJECT: the job creator's signature must be one the contract accepts, over exactly these terms
    await verifyDealSignature(ctx.chain.addresses, routedOf(local), jobCreatorSig, { signer: local.deal.jobCreator, field: "jobCreatorSignature" });
    const providerSig = await signDealFor(ctx.account, ctx.chain.addresses, routedOf(local));
    const { txHash, batchSize, trust } = await chainBatchesOf(ctx.chain).open({ deal: local.deal, trustNonce: local.trustNonce, jobCreatorSig, providerSig });
    return opened(ctx, { ...local, jobCreatorSig, ...(trust && { trustBatchNo: trust.batchNo }) }, txHash, batchSize, trust);
  } catch (e) {
    return openFailed(ctx, local, e);
  }
}

/** Open the whole replica group (in ascending provider order); returns this deal as opened, or undefined. */
export async function openGroup(
  ctx: StepContext,
  local: LocalDeal,
  replicas: { deal: DealMessage; jobCreatorSig: Hex; providerSig: Hex }[],
): Promise<Opened | undefined> {
  try {
    for (const [i, r] of replicas.entries()) {
      // REJECT: every signature in the group must be one the contract accepts, by that replica's parties
      await verifyRecord(ctx.domain, "Deal", r.deal, r.jobCreatorSig, { signer: r.deal.jobCreator, field: `replicas[${i}].jobCreatorSignature` });
      await verifyRecord(ctx.domain, "Deal", r.deal, r.providerSig, { signer: r.deal.provider, field: `replicas[${i}].providerSignature` });
    }
    const { txHash } = await openReplicas(ctx.chain, { replicas });
    return opened(ctx, { ...local, replicas: replicas.map((r) => r.deal) }, txHash, replicas.length);
  } catch (e) {
    return openFailed(ctx, local, e);
  }
}

/** Saved as opened; not yet reported: the run that follows reports it (applyStep.ts). */
function opened(ctx: StepContext, local: LocalDeal, txHash: Hex, batchSize: number, trust?: TrustBatchRef): Opened {
  ctx.logger.info("deal opened", { deal: local.id, txHash, batchSize, ...(trust && { trustBatch: trust.batchNo }) });
  if (trust) keepTrustBatch(ctx.chain, trust.batchNo, trust.leaves);
  return { deal: save(ctx, { ...local, status: "opened" }), txHash };
}

async function openFailed(ctx: StepContext, local: LocalDeal, e: unknown): Promise<undefined> {
  const name = refusal(e);
  // Someone else opened it first: the next pass reads the chain and runs it.
  if (name === "DealsAlreadyOpened") return undefined;
  // A peer that did not answer or a nonce race: try again next pass, never a refusal.
  if (name === undefined && !isLilyError(e, "BAD_SIGNATURE")) throw e;
  const reason = e instanceof Error ? e.message : String(e);
  ctx.logger.warn("deal could not be opened: watching the chain until its openBy", { deal: local.id, reason, openBy: local.deal.openBy });
  save(ctx, { ...local, openRefused: reason, reported: "rejected" });
  await bestEffort(ctx, "rejected report", () => ctx.report.status(local.id, "rejected", { error: reason }));
  return undefined;
}
