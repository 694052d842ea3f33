// trustBatchRoot: the Merkle root LilyTrustDeals holds for an opening batch, which every proof
// of one of its deals (settle, time out) is checked against. Zero: no such batch, or none opened.
import type { Hex } from "viem";
import { lilyTrustDealsAbi } from "../generated/artifacts.ts";
import type { LilyClient } from "../client.ts";
import { withLilyErrors } from "../errors.ts";
import { trustDealsAddress } from "./trustDeal.ts";

export function trustBatchRoot(client: LilyClient, { batchNo }: { batchNo: bigint }): Promise<Hex> {
  return withLilyErrors(() =>
    client.publicClient.readContract({ address: trustDealsAddress(client.addresses), abi: lilyTrustDealsAbi, functionName: "rootOf", args: [batchNo] }),
  );
}
