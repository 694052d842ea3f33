// Open an inference lease both parties signed (LilyLeases.openLease).
import type { Hex } from "viem";
import type { LeaseMessage } from "@lily/protocol";
import { lilyLeasesAbi } from "../generated/artifacts.ts";
import { requireAccount, type LilyClient } from "../client.ts";
import { confirm, written, type WriteResult } from "../confirm.ts";
import { withLilyErrors } from "../errors.ts";
import { leaseId, leasesAddress } from "../lease.ts";
import { writeContract } from "../send.ts";

export interface OpenLeaseParameters {
  lease: LeaseMessage;
  /** The payer's EIP-712 signature over `lease` (signRecord in @lily/protocol, under leaseDomain). */
  payerSignature: Hex;
  /** The provider's EIP-712 signature over `lease`. */
  providerSignature: Hex;
}

export interface OpenLeaseReturnType extends WriteResult {
  leaseId: Hex;
}

/**
 * Open a lease, locking the budget from the payer's and the collateral from the provider's
 * LilyLeases escrow balance. Any account may submit it; the signatures are the authority.
 */
export async function openLease(client: LilyClient, { lease, payerSignature, providerSignature }: OpenLeaseParameters): Promise<OpenLeaseReturnType> {
  const { addresses } = requireAccount(client);
  return withLilyErrors(async () => {
    const hash = await writeContract(client, {
      address: leasesAddress(addresses),
      abi: lilyLeasesAbi,
      functionName: "openLease",
      args: [lease, payerSignature, providerSignature],
    });
    return { ...written(await confirm(client, hash)), leaseId: leaseId(addresses, lease) };
  });
}
