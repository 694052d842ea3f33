import type { Hex } from "viem";
import type { DealMessage } from "@lily/protocol";
import { lilyDealsAbi } from "../generated/artifacts.ts";
import { requireAccount, type LilyClient } from "../client.ts";
import { confirm, written, type WriteResult } from "../confirm.ts";
import { dealId } from "../deal.ts";
import { withLilyErrors } from "../errors.ts";
import { writeContract } from "../send.ts";

export interface ClaimMediationTimeoutParameters {
  deal: DealMessage;
}

export interface ClaimMediationTimeoutReturnType extends WriteResult {
  dealId: Hex;
}

/**
 * Unwind a deal nobody ruled on in time (`MEDIATION_TIMEOUT` seconds after mediation was
 * requested; for a replica whose group was never tallied, after its deadline): the job creator
 * gets back the price and its reserve, the provider its collateral. Any account may send it;
 * for a replica group, send it once per deal.
 */
export async function claimMediationTimeout(client: LilyClient, { deal }: ClaimMediationTimeoutParameters): Promise<ClaimMediationTimeoutReturnType> {
  const { addresses } = requireAccount(client);
  return withLilyErrors(async () => {
    const hash = await writeContract(client, { address: addresses.deals, abi: lilyDealsAbi, functionName: "claimMediationTimeout", args: [deal] });
    return { ...written(await confirm(client, hash)), dealId: dealId(addresses, deal) };
  });
}
