import type { Address } from "viem";
import type { DealMessage } from "@lily/protocol";
import { lilyDealsAbi } from "../generated/artifacts.ts";
import type { LilyClient } from "../client.ts";
import { withLilyErrors } from "../errors.ts";

export interface MediatorOfParameters {
  deal: DealMessage;
  /** The mediators both parties accepted, sorted ascending (`commonMediators`); must hash to `deal.mediators`. */
  mediators: readonly Address[];
}

/**
 * The mediator drawn to rule on a challenged deal (for a replica, on its whole group), from
 * the hash of the block after the draw block. Fails with DealsMediatorNotDrawnYet until that
 * block is mined, and with DealsNotChallenged unless the deal awaits a mediator.
 */
export async function mediatorOf(client: LilyClient, { deal, mediators }: MediatorOfParameters): Promise<Address> {
  return withLilyErrors(() =>
    client.publicClient.readContract({ address: client.addresses.deals, abi: lilyDealsAbi, functionName: "mediatorOf", args: [deal, [...mediators]] }),
  );
}
