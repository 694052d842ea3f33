import type { Hex } from "viem";
import type { DealMessage } from "@lily/protocol";
import { lilyDealsAbi } from "../generated/artifacts.ts";
import { requireAccount, type LilyClient } from "../client.ts";
import { confirm, written, type WriteResult } from "../confirm.ts";
import { dealId } from "../deal.ts";
import { withLilyErrors } from "../errors.ts";
import { writeContract } from "../send.ts";

export interface OpenDealParameters {
  deal: DealMessage;
  /** The job creator's EIP-712 signature over `deal` (see signRecord in @lily/protocol). */
  jobCreatorSig: Hex;
  /** The provider's EIP-712 signature over `deal`. */
  providerSig: Hex;
}

export interface OpenDealReturnType extends WriteResult {
  dealId: Hex;
}

/**
 * Open a deal both parties signed, locking the price and the collateral from their escrow
 * balances. Any account may submit it; the signatures are the authority.
 */
export async function openDeal(client: LilyClient, { deal, jobCreatorSig, providerSig }: OpenDealParameters): Promise<OpenDealReturnType> {
  const { addresses } = requireAccount(client);
  return withLilyErrors(async () => {
    const hash = await writeContract(client, {
      address: addresses.deals,
      abi: lilyDealsAbi,
      functionName: "openDeal",
      args: [deal, jobCreatorSig, providerSig],
    });
    return { ...written(await confirm(client, hash)), dealId: dealId(addresses, deal) };
  });
}
