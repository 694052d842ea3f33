// What the chain says of a deal routed to LilyTrustDeals (a trust deal on a network that has the
// contract), for the wait loop: its state, the batch that opened it (which a timeout proves the
// deal against) and the transactions that opened and settled it. The contract stores only a state
// per deal, so the transactions come from its batch events, looked for from a block before the
// deal could have opened (`fromBlock`), not from the deployment.
import type { Hex } from "viem";
import { locateTrustDeal, routedDealRecord, trustDealEndings, type TrustBatchLog } from "@lily/chain";
import type { JobCreatorContext } from "./context.ts";
import type { ChainDeal, SignedDeal } from "./nextStep.ts";

export type TrustLocation = TrustBatchLog & { index: number };

/** What the loop keeps of routed deals between passes. */
export interface RoutedMemory {
  /** The batch that opened each routed deal, once found (it never moves). */
  located: Map<Hex, TrustLocation>;
  /** A block at or before which the job's routed deal had not opened: where its search starts. */
  fromBlock?: bigint;
}

/** The batch that opened the deal, once it has; found once, then remembered. */
export async function trustLocation(ctx: JobCreatorContext, s: SignedDeal, memory: RoutedMemory): Promise<TrustLocation | undefined> {
  const known = memory.located.get(s.dealId);
  if (known) return known;
  const found = await locateTrustDeal(ctx.chain, { ...s, ...(memory.fromBlock !== undefined && { fromBlock: memory.fromBlock }) });
  if (found) memory.located.set(s.dealId, found);
  return found;
}

/**
 * A routed deal as nextStep sees it, and whether the read is complete (its opening, and its
 * settlement once settled, found in the logs): an incomplete read is not kept, so the next pass
 * reads again, as for LilyDeals.
 */
export async function readRoutedDeal(
  ctx: JobCreatorContext,
  s: SignedDeal,
  memory: RoutedMemory,
  atBlock: bigint,
  known?: { state: string; deal: ChainDeal },
): Promise<{ deal: ChainDeal; complete: boolean }> {
  const record = await routedDealRecord(ctx.chain, s);
  // The events change only with the state: a state read before in full is not looked up again.
  if (known?.state === record.state) return { deal: known.deal, complete: true };
  const deal: ChainDeal = { state: record.state, challengedAt: 0n, routed: true };
  if (record.state === "none") {
    // Read at or after `atBlock` and not open: it can only open in a later block.
    memory.fromBlock ??= atBlock;
    return { deal, complete: true };
  }
  const opened = await trustLocation(ctx, s, memory);
  if (!opened) return { deal, complete: false };
  deal.openTx = opened.txHash;
  if (record.state !== "settled") return { deal, complete: true };
  const settleTx = await settledIn(ctx, s, opened);
  if (settleTx) deal.commitTx = settleTx;
  return { deal, complete: settleTx !== undefined };
}

/** The transaction whose DealsSettled event (this batch and provider) packs the deal's nonce. */
async function settledIn(ctx: JobCreatorContext, s: SignedDeal, opened: TrustLocation): Promise<Hex | undefined> {
  const endings = await trustDealEndings(ctx.chain, { ...s, batchNo: opened.batchNo, fromBlock: opened.blockNumber });
  return endings.find((e) => e.name === "DealsSettled")?.txHash;
}
