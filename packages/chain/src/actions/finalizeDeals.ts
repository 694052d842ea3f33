import { parseEventLogs, type Hex } from "viem";
import type { DealMessage } from "@lily/protocol";
import { lilyDealsAbi } from "../generated/artifacts.ts";
import { requireAccount, type LilyClient } from "../client.ts";
import { checkBatchSize, skippedItems, type SkippedItem } from "../batch.ts";
import { confirm, written, type WriteResult } from "../confirm.ts";
import { withLilyErrors } from "../errors.ts";
import { writeContract } from "../send.ts";

export interface FinalizeDealsParameters {
  /** Committed deals, as opened. */
  deals: readonly DealMessage[];
}

export interface FinalizeDealsReturnType extends WriteResult {
  /** The deals this transaction settled. */
  settled: Hex[];
  /** The audit(p) deals whose draw sent them to a mediator. */
  challenged: Hex[];
  /** The items left as they were (not committed, window still open, audit draw block not mined). */
  skipped: SkippedItem[];
}

/**
 * Move many committed deals on in one transaction, each as `finalize` would: optimistic deals
 * whose window closed settle; audit(p) deals are drawn. Any account may send it; items not
 * ready yet are skipped and reported.
 */
export async function finalizeDeals(client: LilyClient, { deals }: FinalizeDealsParameters): Promise<FinalizeDealsReturnType> {
  const { addresses } = requireAccount(client);
  checkBatchSize("deals", deals.length);
  return withLilyErrors(async () => {
    const hash = await writeContract(client, { address: addresses.deals, abi: lilyDealsAbi, functionName: "finalizeDeals", args: [deals] });
    const receipt = await confirm(client, hash);
    const settled = parseEventLogs({ abi: lilyDealsAbi, logs: receipt.logs, eventName: "DealSettled" }).map((l) => l.args.dealId);
    const challenged = parseEventLogs({ abi: lilyDealsAbi, logs: receipt.logs, eventName: "MediationRequested" }).map((l) => l.args.dealId);
    return { ...written(receipt), settled, challenged, skipped: skippedItems(receipt) };
  });
}
