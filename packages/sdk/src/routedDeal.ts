// What the chain says of a deal routed to LilyTrustDeals (a trust deal on a network that has the
// contract), for the wait loop: its state, the batch that opened it (which a timeout proves the
// deal against) and the transactions that opened and settled it. The contract stores only a state
// per deal, so the transactions come from its batch events, looked for from a block before the
// deal could have opened (`fromBlock`), not from the deployment.
//
// The contract keeps a state per (provider, nonce), not per deal, and the provider picks the nonce:
// a provider could sign another deal under the same nonce and open that one instead. So a state
// other than "none" is this deal's only once its own leaf is found in an opening batch. One that
// stays unfound well past its openBy (LOG_LAG_GRACE_SECONDS: a node's log index can trail its
// state briefly) belongs to another deal: this one never opened, nothing was locked, and it lapses.
import type { Hex } from "viem";
import { locateTrustDeal, routedDealRecord, trustDealEndings, type TrustBatchLog } from "@lily/chain";
import type { JobCreatorContext } from "./context.ts";
import type { ChainDeal, SignedDeal } from "./nextStep.ts";

export type TrustLocation = TrustBatchLog & { index: number };

/** How long past its openBy a routed deal whose nonce shows a state but whose leaf is in no opening is taken as never opened. */
export const LOG_LAG_GRACE_SECONDS = 60n;

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
  at: { number: bigint; timestamp: bigint },
  known?: { state: string; deal: ChainDeal },
): Promise<{ deal: ChainDeal; complete: boolean }> {
  const record = await routedDealRecord(ctx.chain, s);
  // The events change only with the state: a state read before in full is not looked up again.
  if (known?.state === record.state) return { deal: known.deal, complete: true };
  const deal: ChainDeal = { state: record.state, challengedAt: 0n, routed: true };
  if (record.state === "none") {
    // Read at or after `atBlock` and not open: it can only open in a later block.
    memory.fromBlock ??= at.number;
    return { deal, complete: true };
  }
  const opened = await trustLocation(ctx, s, memory);
  if (!opened) {
    // The nonce's state, but not (yet) this deal's opening: see the header.
    if (at.timestamp > s.deal.openBy + LOG_LAG_GRACE_SECONDS) return { deal: { ...deal, state: "none" }, complete: false };
    return { deal, complete: false };
  }
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
