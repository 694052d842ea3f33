// The chain as the lease service uses it: LilyLeases' record of a lease, closing it with a voucher,
// releasing its collateral, escrow balances, the contract's windows and the newest block (what a
// record read from the chain relies on). An interface, so the lease logic reads without a chain;
// `leaseChainOf` is the real one over @lily/chain's lease actions.
import type { Address, Hex } from "viem";
import {
  closeLease,
  headBlock,
  escrowBalance,
  leaseRecord,
  leasesAddress,
  leaseWindows,
  releaseLeaseCollateral,
  type BlockRef,
  type CollateralStateName,
  type LeaseStateName,
  type LilyClient,
} from "@lily/chain";
import type { Lease } from "@lily/protocol";

export interface LeaseChain {
  leaseRecord(id: Hex): Promise<{ state: LeaseStateName; collateral: CollateralStateName }>;
  /** Close with the payer's voucher (amount and requests zero, no signature: close for nothing); the transaction hash. */
  closeLease(p: { lease: Lease; amount: bigint; requests: bigint; voucherSignature?: Hex }): Promise<Hex>;
  releaseCollateral(lease: Lease): Promise<Hex>;
  /** The chain's newest block. */
  headBlock(): Promise<BlockRef>;
  /** An account's free balance in the LilyLeases escrow. */
  escrowBalance(account: Address): Promise<bigint>;
  /** LilyLeases' CLAIM_WINDOW and AUDIT_WINDOW, in seconds. */
  windows(): Promise<{ claimWindowSeconds: number; auditWindowSeconds: number }>;
}

/** The real chain: `client` sends as the provider and knows the LilyLeases address. */
export function leaseChainOf(client: LilyClient): LeaseChain {
  const escrow = leasesAddress(client.addresses);
  return {
    leaseRecord: (leaseId) => leaseRecord(client, { leaseId }),
    closeLease: async (p) => (await closeLease(client, p)).txHash,
    releaseCollateral: async (lease) => (await releaseLeaseCollateral(client, { lease })).txHash,
    headBlock: () => headBlock(client),
    escrowBalance: (account) => escrowBalance(client, { account, escrow }),
    windows: () => leaseWindows(client),
  };
}
