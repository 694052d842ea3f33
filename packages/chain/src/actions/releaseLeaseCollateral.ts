// Return an ended lease's collateral to its provider after the audit window (LilyLeases.releaseCollateral).
import type { Hex } from "viem";
import type { LeaseMessage } from "@lily/protocol";
import { lilyLeasesAbi } from "../generated/artifacts.ts";
import { requireAccount, type LilyClient } from "../client.ts";
import { confirm, written, type WriteResult } from "../confirm.ts";
import { withLilyErrors } from "../errors.ts";
import { leaseId, leasesAddress } from "../lease.ts";
import { writeContract } from "../send.ts";

export interface ReleaseLeaseCollateralParameters {
  lease: LeaseMessage;
}

export interface ReleaseLeaseCollateralReturnType extends WriteResult {
  leaseId: Hex;
}

/**
 * Return the collateral of a closed or expired lease to its provider once the audit window after
 * its expiry has passed unslashed. Any account may send it.
 */
export async function releaseLeaseCollateral(client: LilyClient, { lease }: ReleaseLeaseCollateralParameters): Promise<ReleaseLeaseCollateralReturnType> {
  const { addresses } = requireAccount(client);
  return withLilyErrors(async () => {
    const hash = await writeContract(client, { address: leasesAddress(addresses), abi: lilyLeasesAbi, functionName: "releaseCollateral", args: [lease] });
    return { ...written(await confirm(client, hash)), leaseId: leaseId(addresses, lease) };
  });
}
