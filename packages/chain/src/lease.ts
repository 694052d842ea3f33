// The inference lease as the chain sees it: its signing domain (the LilyLeases contract), its id,
// its on-chain states, and the contract's address from a deployment.
import type { Address, Hex } from "viem";
import { hashRecord, type Domain, type LeaseMessage } from "@lily/protocol";
import type { LilyAddresses } from "./deploy.ts";
import { optionalContract } from "./optionalContract.ts";

/**
 * On-chain lease states, indexed by the contract's `LeaseState`: never opened, open (budget and
 * collateral locked), closed (the provider was paid by the payer's latest voucher), expired (the
 * provider never closed and the payer took its budget back).
 */
export const leaseStates = ["none", "open", "closed", "expired"] as const;
export type LeaseStateName = (typeof leaseStates)[number];

/**
 * Where a lease's collateral is, indexed by the contract's `CollateralState`: locked until the
 * audit window ends (also reported for a lease never opened), released to the provider, or
 * slashed by the lease's mediator.
 */
export const collateralStates = ["locked", "released", "slashed"] as const;
export type CollateralStateName = (typeof collateralStates)[number];

/** The LilyLeases address of a deployment (a client's `addresses`), or CONFIG when it was built without one. */
export function leasesAddress(addresses: Pick<LilyAddresses, "leases">): Address {
  return optionalContract(addresses, "leases", "the LilyLeases contract", "pass the deployment's `leases` address (network.json has it, or --leases)");
}

/** The EIP-712 domain leases, vouchers and receipts are signed under: this chain and this LilyLeases contract. */
export function leaseDomain(addresses: Pick<LilyAddresses, "chainId" | "leases">): Domain {
  return { chainId: addresses.chainId, verifyingContract: leasesAddress(addresses) };
}

/** The lease id, computed off chain; equal to the contract's `hashLease(lease)`. */
export function leaseId(addresses: Pick<LilyAddresses, "chainId" | "leases">, lease: LeaseMessage): Hex {
  return hashRecord(leaseDomain(addresses), "Lease", lease);
}
