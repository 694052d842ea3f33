// settleTrustDeals: as a batch's provider, declare its trust deals delivered and be paid at once.
import type { Hex } from "viem";
import { lilyTrustDealsAbi } from "../generated/artifacts.ts";
import { requireAccount, type LilyClient } from "../client.ts";
import { checkBatchSize } from "../batch.ts";
import { confirm, written, type WriteResult } from "../confirm.ts";
import { withLilyErrors } from "../errors.ts";
import { writeContract } from "../send.ts";
import { trustDealsAddress, type TrustTerms } from "./trustDeal.ts";
import { trustMovedNonces, type TrustSkippedItem } from "./trustBatch.ts";
import { proveTrustItems, skippedAsListed } from "./proveTrustItems.ts";

export interface SettleTrustDealsParameters {
  /** The batch that opened the deals. */
  batchNo: bigint;
  /** The batch's leaves, from its opening (`openTrustDeals` or `trustBatch`). */
  leaves: readonly Hex[];
  /** The sender's delivered deals of the batch, by their settlement terms (`trustTermsOf`). */
  deals: readonly TrustTerms[];
}

export interface SettleTrustDealsReturnType extends WriteResult {
  /** The nonces of the deals settled, in the order the call sent them (the proof's). */
  settled: bigint[];
  /** Items left as they were (not open, past the deadline), indexed as in `deals`. */
  skipped: TrustSkippedItem[];
}

/**
 * Settle many trust deals of one batch in one transaction, as their provider: each deal open and
 * in time pays the price less royalty and returns the collateral. A deal not in the batch fails the
 * call before anything is sent (INVALID_INPUT naming it).
 */
export async function settleTrustDeals(client: LilyClient, { batchNo, leaves, deals }: SettleTrustDealsParameters): Promise<SettleTrustDealsReturnType> {
  const { addresses, account } = requireAccount(client);
  const address = trustDealsAddress(addresses);
  checkBatchSize("deals", deals.length);
  const proven = proveTrustItems("deals", leaves, account.address, deals);
  return withLilyErrors(async () => {
    const hash = await writeContract(client, {
      address,
      abi: lilyTrustDealsAbi,
      functionName: "settleDeals",
      args: [batchNo, proven.items, proven.proof, proven.proofFlags],
    });
    const receipt = await confirm(client, hash);
    return { ...written(receipt), settled: trustMovedNonces(receipt, "DealsSettled"), skipped: skippedAsListed(receipt, proven) };
  });
}
