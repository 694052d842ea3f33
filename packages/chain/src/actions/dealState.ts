import type { Hex } from "viem";
import { lilyDealsAbi } from "../generated/artifacts.ts";
import type { LilyClient } from "../client.ts";
import { dealStates, type DealStateName } from "../deal.ts";
import { withLilyErrors } from "../errors.ts";

export interface DealStateParameters {
  dealId: Hex;
}

/**
 * A deal's on-chain state: "none" (never opened), "open", "committed" (waiting for its policy),
 * "challenged" (waiting for a mediator), "settled", "timedOut" or "slashed".
 */
export async function dealState(client: LilyClient, { dealId }: DealStateParameters): Promise<DealStateName> {
  const state = await withLilyErrors(() =>
    client.publicClient.readContract({ address: client.addresses.deals, abi: lilyDealsAbi, functionName: "dealState", args: [dealId] }),
  );
  return dealStates[state];
}
