import { parseEventLogs, type Hex } from "viem";
import type { DealMessage } from "@lily/protocol";
import { lilyDealsAbi } from "../generated/artifacts.ts";
import { requireAccount, type LilyClient } from "../client.ts";
import { checkBatchSize, skippedItems, type SkippedItem } from "../batch.ts";
import { confirm, written, type WriteResult } from "../confirm.ts";
import { dealId } from "../deal.ts";
import { withLilyErrors } from "../errors.ts";
import { writeContract } from "../send.ts";

export interface CommitResultsParameters {
  /** The deals (as opened) whose provider is the sender, each with its result digest. */
  results: readonly { deal: DealMessage; resultDigest: Hex }[];
}

export interface CommitResultsReturnType extends WriteResult {
  /** The ids of the deals whose result was accepted, in batch order. */
  committed: Hex[];
  /** Of those, the ones their policy settled in the same transaction (all of them under `trust`). */
  settled: Hex[];
  /** The items left as they were (not the sender's, not open, past the deadline). */
  skipped: SkippedItem[];
}

/**
 * Commit many results in one transaction, as the deals' provider, each checked as
 * `commitResult` checks it; under `trust` each deal settles at once. Items the sender may not
 * commit now are skipped and reported; the others go ahead.
 */
export async function commitResults(client: LilyClient, { results }: CommitResultsParameters): Promise<CommitResultsReturnType> {
  const { addresses } = requireAccount(client);
  checkBatchSize("results", results.length);
  return withLilyErrors(async () => {
    const hash = await writeContract(client, {
      address: addresses.deals,
      abi: lilyDealsAbi,
      functionName: "commitResults",
      args: [results.map((r) => r.deal), results.map((r) => r.resultDigest)],
    });
    const receipt = await confirm(client, hash);
    const skipped = skippedItems(receipt);
    const skippedAt = new Set(skipped.map((s) => s.index));
    const committed = results.flatMap((r, i) => (skippedAt.has(i) ? [] : [dealId(addresses, r.deal)]));
    const settledIds = new Set(parseEventLogs({ abi: lilyDealsAbi, logs: receipt.logs, eventName: "DealSettled" }).map((l) => l.args.dealId));
    return { ...written(receipt), committed, settled: committed.filter((id) => settledIds.has(id)), skipped };
  });
}
