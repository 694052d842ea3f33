// Give an unclaimed lease's budget back to its payer (LilyLeases.reclaimLease).
import type { Hex } from "viem";
import type { LeaseMessage } from "@lily/protocol";
import { lilyLeasesAbi } from "../generated/artifacts.ts";
import { requireAccount, type LilyClient } from "../client.ts";
import { confirm, written, type WriteResult } from "../confirm.ts";
import { withLilyErrors } from "../errors.ts";
import { leaseId, leasesAddress } from "../lease.ts";
import { writeContract } from "../send.ts";

export interface ReclaimLeaseParameters {
  lease: LeaseMessage;
}

export interface ReclaimLeaseReturnType extends WriteResult {
  leaseId: Hex;
}

/**
 * Return the whole budget of a lease its provider never closed to the payer, once the claim
 * window after its expiry has passed. Any account may send it.
 */
export async function reclaimLease(client: LilyClient, { lease }: ReclaimLeaseParameters): Promise<ReclaimLeaseReturnType> {
  const { addresses } = requireAccount(client);
  return withLilyErrors(async () => {
    const hash = await writeContract(client, { address: leasesAddress(addresses), abi: lilyLeasesAbi, functionName: "reclaimLease", args: [lease] });
    return { ...written(await confirm(client, hash)), leaseId: leaseId(addresses, lease) };
  });
}
