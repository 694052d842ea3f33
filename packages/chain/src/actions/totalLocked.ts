import type { Address } from "viem";
import { lilyDealsAbi } from "../generated/artifacts.ts";
import type { LilyClient } from "../client.ts";
import { withLilyErrors } from "../errors.ts";

export interface TotalLockedParameters {
  /** The escrow contract: LilyDeals by default, or LilyLeases. */
  escrow?: Address;
}

/** All LILY currently locked in an escrow contract's open deals (or leases), in wei. */
export async function totalLocked(client: LilyClient, { escrow }: TotalLockedParameters = {}): Promise<bigint> {
  return withLilyErrors(() => client.publicClient.readContract({ address: escrow ?? client.addresses.deals, abi: lilyDealsAbi, functionName: "totalLocked" }));
}
