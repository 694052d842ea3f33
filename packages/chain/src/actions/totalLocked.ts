import { lilyDealsAbi } from "../generated/artifacts.ts";
import type { LilyClient } from "../client.ts";
import { withLilyErrors } from "../errors.ts";

/** All LILY currently locked in open deals, in wei. */
export async function totalLocked(client: LilyClient): Promise<bigint> {
  return withLilyErrors(() => client.publicClient.readContract({ address: client.addresses.deals, abi: lilyDealsAbi, functionName: "totalLocked" }));
}
