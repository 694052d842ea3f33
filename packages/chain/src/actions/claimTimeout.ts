import type { Hex } from "viem";
import type { DealMessage } from "@lily/protocol";
import { lilyDealsAbi } from "../generated/artifacts.ts";
import { requireAccount, type LilyClient } from "../client.ts";
import { confirm, written, type WriteResult } from "../confirm.ts";
import { dealId } from "../deal.ts";
import { withLilyErrors } from "../errors.ts";
import { writeContract } from "../send.ts";

export interface ClaimTimeoutParameters {
  deal: DealMessage;
}

export interface ClaimTimeoutReturnType extends WriteResult {
  dealId: Hex;
}

/**
 * Close a deal whose deadline passed with no result: the job creator gets the price back and
 * the provider's collateral. Any account may send it.
 */
export async function claimTimeout(client: LilyClient, { deal }: ClaimTimeoutParameters): Promise<ClaimTimeoutReturnType> {
  const { addresses } = requireAccount(client);
  return withLilyErrors(async () => {
    const hash = await writeContract(client, { address: addresses.deals, abi: lilyDealsAbi, functionName: "claimTimeout", args: [deal] });
    return { ...written(await confirm(client, hash)), dealId: dealId(addresses, deal) };
  });
}
