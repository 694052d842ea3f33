import { lilyLeasesAbi } from "../generated/artifacts.ts";
import type { LilyClient } from "../client.ts";
import { withLilyErrors } from "../errors.ts";
import { leasesAddress } from "../lease.ts";

export interface LeaseWindowsReturnType {
  /** Seconds after a lease's expiry its provider may still close it; after that the payer reclaims. */
  claimWindowSeconds: number;
  /** Seconds after expiry the collateral stays slashable; after that anyone releases it. */
  auditWindowSeconds: number;
}

/** LilyLeases' windows, fixed at deployment. */
export async function leaseWindows(client: LilyClient): Promise<LeaseWindowsReturnType> {
  const address = leasesAddress(client.addresses);
  const read = (functionName: "CLAIM_WINDOW" | "AUDIT_WINDOW") =>
    withLilyErrors(() => client.publicClient.readContract({ address, abi: lilyLeasesAbi, functionName }));
  const [claim, audit] = await Promise.all([read("CLAIM_WINDOW"), read("AUDIT_WINDOW")]);
  return { claimWindowSeconds: Number(claim), auditWindowSeconds: Number(audit) };
}
