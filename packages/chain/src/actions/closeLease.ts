// Close a lease with the payer's latest voucher (LilyLeases.closeLease): the provider's claim.
import type { Hex } from "viem";
import type { LeaseMessage } from "@lily/protocol";
import { lilyLeasesAbi } from "../generated/artifacts.ts";
import { requireAccount, type LilyClient } from "../client.ts";
import { confirm, written, type WriteResult } from "../confirm.ts";
import { withLilyErrors } from "../errors.ts";
import { leaseId, leasesAddress } from "../lease.ts";
import { writeContract } from "../send.ts";

export interface CloseLeaseParameters {
  lease: LeaseMessage;
  /** The voucher's cumulative amount: everything the payer owes for the lease, at most the budget. */
  amount: bigint;
  /** How many answers the voucher counts. */
  requests: bigint;
  /** The payer's EIP-712 signature over Voucher{lease, amount, requests}; omit to close for nothing. */
  voucherSignature?: Hex;
}

export interface CloseLeaseReturnType extends WriteResult {
  leaseId: Hex;
}

/**
 * Close a lease, sent by its provider: it is paid `amount` less the model creator's royalty and
 * the rest of the budget goes back to the payer. The collateral stays locked until the audit
 * window ends (see releaseLeaseCollateral), unless it already has or the lease names no mediator.
 */
export async function closeLease(
  client: LilyClient,
  { lease, amount, requests, voucherSignature = "0x" }: CloseLeaseParameters,
): Promise<CloseLeaseReturnType> {
  const { addresses } = requireAccount(client);
  return withLilyErrors(async () => {
    const hash = await writeContract(client, {
      address: leasesAddress(addresses),
      abi: lilyLeasesAbi,
      functionName: "closeLease",
      args: [lease, amount, requests, voucherSignature],
    });
    return { ...written(await confirm(client, hash)), leaseId: leaseId(addresses, lease) };
  });
}
