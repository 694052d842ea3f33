import type { Address } from "viem";
import type { DealMessage } from "@lily/protocol";
import { lilyDealsAbi } from "../generated/artifacts.ts";
import type { LilyClient } from "../client.ts";
import { sortReplicas } from "../deal.ts";
import { withLilyErrors } from "../errors.ts";

export interface GroupMediatorOfParameters {
  /** The whole replica group, in any order. */
  deals: readonly DealMessage[];
  /** The mediators the group's deals were signed with, sorted ascending. */
  mediators: readonly Address[];
}

/**
 * The mediator whose turn it is to rule on a `replicate(k)` group without a majority: never the
 * group's job creator or one of its providers. Fails like `mediatorOf` until the draw exists.
 */
export async function groupMediatorOf(client: LilyClient, { deals, mediators }: GroupMediatorOfParameters): Promise<Address> {
  return withLilyErrors(() =>
    client.publicClient.readContract({
      address: client.addresses.deals,
      abi: lilyDealsAbi,
      functionName: "groupMediatorOf",
      args: [sortReplicas(deals, (d) => d), [...mediators]],
    }),
  );
}
