// Slash a lease's collateral over an answer the provider signed (LilyLeases.slashLease): the mediator's ruling.
import type { Hex } from "viem";
import type { LeaseMessage, ReceiptMessage } from "@lily/protocol";
import { lilyLeasesAbi } from "../generated/artifacts.ts";
import { requireAccount, type LilyClient } from "../client.ts";
import { confirm, written, type WriteResult } from "../confirm.ts";
import { withLilyErrors } from "../errors.ts";
import { leaseId, leasesAddress } from "../lease.ts";
import { writeContract } from "../send.ts";

export interface SlashLeaseParameters {
  lease: LeaseMessage;
  /** The provider's receipt for the answer the mediator found wrong; it must name this lease. */
  receipt: ReceiptMessage;
  /** The provider's EIP-712 signature over `receipt`. */
  providerSignature: Hex;
}

export interface SlashLeaseReturnType extends WriteResult {
  leaseId: Hex;
}

/**
 * Slash the collateral of a lease, sent by the mediator it names, before the audit window after
 * its expiry closes: the mediator is paid min(mediationFee, collateral) out of it, the payer the rest.
 */
export async function slashLease(client: LilyClient, { lease, receipt, providerSignature }: SlashLeaseParameters): Promise<SlashLeaseReturnType> {
  const { addresses } = requireAccount(client);
  return withLilyErrors(async () => {
    const hash = await writeContract(client, {
      address: leasesAddress(addresses),
      abi: lilyLeasesAbi,
      functionName: "slashLease",
      args: [lease, receipt, providerSignature],
    });
    return { ...written(await confirm(client, hash)), leaseId: leaseId(addresses, lease) };
  });
}
