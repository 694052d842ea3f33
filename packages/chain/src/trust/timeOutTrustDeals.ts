// timeOutTrustDeals: close a provider's trust deals whose deadline passed without a result.
import type { Address, Hex } from "viem";
import { lilyTrustDealsAbi } from "../generated/artifacts.ts";
import { requireAccount, type LilyClient } from "../client.ts";
import { checkBatchSize } from "../batch.ts";
import { confirm, written, type WriteResult } from "../confirm.ts";
import { withLilyErrors } from "../errors.ts";
import { writeContract } from "../send.ts";
import { trustDealsAddress, type TrustTerms } from "./trustDeal.ts";
import { trustMovedNonces, type TrustSkippedItem } from "./trustBatch.ts";
import { proveTrustItems, skippedAsListed } from "./proveTrustItems.ts";

export interface TimeOutTrustDealsParameters {
  batchNo: bigint;
  /** The batch's leaves, from its opening (`openTrustDeals` or `trustBatch`). */
  leaves: readonly Hex[];
  /** The deals' provider. */
  provider: Address;
  /** The deals' settlement terms. */
  deals: readonly TrustTerms[];
}

export interface TimeOutTrustDealsReturnType extends WriteResult {
  /** The nonces of the deals timed out (their job creators got the price and the collateral), in the order sent. */
  timedOut: bigint[];
  /** Items left as they were (not open, deadline not passed), indexed as in `deals`. */
  skipped: TrustSkippedItem[];
}

/** Time out many trust deals of one provider and batch in one transaction. Anyone may send it. */
export async function timeOutTrustDeals(
  client: LilyClient,
  { batchNo, leaves, provider, deals }: TimeOutTrustDealsParameters,
): Promise<TimeOutTrustDealsReturnType> {
  const { addresses } = requireAccount(client);
  const address = trustDealsAddress(addresses);
  checkBatchSize("deals", deals.length);
  const proven = proveTrustItems("deals", leaves, provider, deals);
  return withLilyErrors(async () => {
    const hash = await writeContract(client, {
      address,
      abi: lilyTrustDealsAbi,
      functionName: "timeOut",
      args: [batchNo, provider, proven.items, proven.proof, proven.proofFlags],
    });
    const receipt = await confirm(client, hash);
    return { ...written(receipt), timedOut: trustMovedNonces(receipt, "DealsTimedOut"), skipped: skippedAsListed(receipt, proven) };
  });
}
