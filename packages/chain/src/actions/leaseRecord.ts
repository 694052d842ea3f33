// What LilyLeases stores about a lease (LilyLeases.leaseRecord).
import type { Hex } from "viem";
import { lilyLeasesAbi } from "../generated/artifacts.ts";
import type { LilyClient } from "../client.ts";
import { withLilyErrors } from "../errors.ts";
import { collateralStates, leasesAddress, leaseStates, type CollateralStateName, type LeaseStateName } from "../lease.ts";

export interface LeaseRecordParameters {
  /** The lease's id: `leaseId(addresses, lease)`, equal to the contract's hashLease. */
  leaseId: Hex;
}

export interface LeaseRecordReturnType {
  state: LeaseStateName;
  /** Where the collateral is; "locked" also for a lease never opened. */
  collateral: CollateralStateName;
  /** What the closing voucher paid (royalty included); zero until closed. */
  paid: bigint;
  /** How many answers the closing voucher counted; zero until closed. */
  requests: bigint;
}

/** Everything stored about a lease on chain. */
export async function leaseRecord(client: LilyClient, { leaseId }: LeaseRecordParameters): Promise<LeaseRecordReturnType> {
  const address = leasesAddress(client.addresses);
  const [state, collateral, paid, requests] = await withLilyErrors(() =>
    client.publicClient.readContract({ address, abi: lilyLeasesAbi, functionName: "leaseRecord", args: [leaseId] }),
  );
  return { state: leaseStates[state]!, collateral: collateralStates[collateral]!, paid, requests };
}
