import type { Hex } from "viem";
import type { DealMessage } from "@lily/protocol";
import { lilyDealsAbi } from "../generated/artifacts.ts";
import { requireAccount, type LilyClient } from "../client.ts";
import { checkBatchSize, skippedItems, type SkippedItem } from "../batch.ts";
import { confirm, written, type WriteResult } from "../confirm.ts";
import { dealId } from "../deal.ts";
import { withLilyErrors } from "../errors.ts";
import { writeContract } from "../send.ts";

export interface OpenDealsParameters {
  /**
   * The deals, each with its job creator's and provider's EIP-712 signature. The sender's own
   * signature may be "0x": a party that submits the batch consents by sending it.
   */
  deals: readonly { deal: DealMessage; jobCreatorSig: Hex; providerSig: Hex }[];
}

export interface OpenDealsReturnType extends WriteResult {
  /** The ids of the deals this transaction opened, in batch order. */
  opened: Hex[];
  /** The items left as they were (already open, openBy passed, a bad signature, too little escrow). */
  skipped: SkippedItem[];
}

/**
 * Open many signed deals in one transaction, each checked as `openDeal` checks it. An item that
 * the chain's state, its clock or a signature rules out is skipped and reported, and the others
 * open; an item whose signed terms are invalid fails the whole call before anything is sent.
 */
export async function openDeals(client: LilyClient, { deals }: OpenDealsParameters): Promise<OpenDealsReturnType> {
  const { addresses } = requireAccount(client);
  checkBatchSize("deals", deals.length);
  return withLilyErrors(async () => {
    const hash = await writeContract(client, {
      address: addresses.deals,
      abi: lilyDealsAbi,
      functionName: "openDeals",
      args: [deals.map((d) => d.deal), deals.map((d) => d.jobCreatorSig), deals.map((d) => d.providerSig)],
    });
    const receipt = await confirm(client, hash);
    const skipped = skippedItems(receipt);
    const skippedAt = new Set(skipped.map((s) => s.index));
    return { ...written(receipt), opened: deals.flatMap((d, i) => (skippedAt.has(i) ? [] : [dealId(addresses, d.deal)])), skipped };
  });
}
