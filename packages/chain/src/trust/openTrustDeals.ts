// openTrustDeals: open many trust deals in one LilyTrustDeals transaction, no storage per deal.
import type { Hex } from "viem";
import type { TrustDealMessage } from "@lily/protocol";
import { lilyTrustDealsAbi } from "../generated/artifacts.ts";
import { requireAccount, type LilyClient } from "../client.ts";
import { checkBatchSize } from "../batch.ts";
import { confirm, written, type WriteResult } from "../confirm.ts";
import { withLilyErrors } from "../errors.ts";
import { writeContract } from "../send.ts";
import { trustDealsAddress } from "./trustDeal.ts";
import { trustBatchOpened, trustSkippedItems, type TrustBatchOpened, type TrustSkippedItem } from "./trustBatch.ts";

// When the sender consents for one side of every deal, that side's signatures are left out
// entirely (an empty array): ~280 gas of calldata a deal.
const signatures = (sigs: Hex[]): Hex[] => (sigs.every((sig) => sig === "0x") ? [] : sigs);

export interface OpenTrustDealsParameters {
  /** Each deal with its job creator's and provider's signature; the sender's own may be "0x". */
  deals: readonly { deal: TrustDealMessage; jobCreatorSig: Hex; providerSig: Hex }[];
}

export interface OpenTrustDealsReturnType extends WriteResult, TrustBatchOpened {
  /** The items left as they were (openBy passed, nonce used, a bad signature, too little escrow). */
  skipped: TrustSkippedItem[];
}

/**
 * Open many signed trust deals in one transaction. Items that the chain's state, its clock or a
 * signature rules out are skipped and reported, the others open; terms invalid in themselves
 * (royalty, deadline not after openBy) fail the whole call before anything is sent. Keep the
 * returned `batchNo` and `leaves`: committing or timing out a deal of the batch proves it against them.
 */
export async function openTrustDeals(client: LilyClient, { deals }: OpenTrustDealsParameters): Promise<OpenTrustDealsReturnType> {
  const { addresses } = requireAccount(client);
  const address = trustDealsAddress(addresses);
  checkBatchSize("deals", deals.length);
  return withLilyErrors(async () => {
    const hash = await writeContract(client, {
      address,
      abi: lilyTrustDealsAbi,
      functionName: "openDeals",
      args: [deals.map((d) => d.deal), signatures(deals.map((d) => d.jobCreatorSig)), signatures(deals.map((d) => d.providerSig))],
    });
    const receipt = await confirm(client, hash);
    return { ...written(receipt), ...trustBatchOpened(receipt), skipped: trustSkippedItems(receipt) };
  });
}
