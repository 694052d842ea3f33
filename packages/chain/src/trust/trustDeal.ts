// The trust deal as the chain sees it (contracts/LilyTrustDeals.sol): its signing domain and id,
// the settlement terms and leaf a commit or timeout re-supplies, its states, and the contract's
// address from a deployment.
import { encodeAbiParameters, keccak256, type Address, type Hex } from "viem";
import { hashRecord, type Domain, type TrustDealMessage } from "@lily/protocol";
import type { LilyAddresses } from "../deploy.ts";
import { optionalContract } from "../optionalContract.ts";

/** On-chain trust deal states, indexed by the contract's `TrustState`. */
export const trustStates = ["none", "open", "settled", "timedOut"] as const;
export type TrustStateName = (typeof trustStates)[number];

/** What settling or timing out a trust deal needs besides its provider: the contract's `TrustTerms`. */
export interface TrustTerms {
  nonce: bigint;
  jobCreator: Address;
  price: bigint;
  collateral: bigint;
  deadline: bigint;
  moduleCreator: Address;
  royaltyBps: number;
}

/** The LilyTrustDeals address of a deployment, or CONFIG when the client was built without one. */
export function trustDealsAddress(addresses: Pick<LilyAddresses, "trustDeals">): Address {
  return optionalContract(
    addresses,
    "trustDeals",
    "the LilyTrustDeals contract",
    "pass the deployment's `trustDeals` address (deployments made before it existed have none)",
  );
}

/** The EIP-712 domain trust deals are signed under: this chain and this LilyTrustDeals contract. */
export function trustDealDomain(addresses: Pick<LilyAddresses, "chainId" | "trustDeals">): Domain {
  return { chainId: addresses.chainId, verifyingContract: trustDealsAddress(addresses) };
}

/** A trust deal's id, computed off chain; equal to the contract's `hashDeal(deal)`. */
export function trustDealId(addresses: Pick<LilyAddresses, "chainId" | "trustDeals">, deal: TrustDealMessage): Hex {
  return hashRecord(trustDealDomain(addresses), "TrustDeal", deal);
}

/** The settlement terms of a signed trust deal. */
export function trustTermsOf(deal: TrustDealMessage): TrustTerms {
  const { nonce, jobCreator, price, collateral, deadline, moduleCreator, royaltyBps } = deal;
  return { nonce, jobCreator, price, collateral, deadline, moduleCreator, royaltyBps };
}

const LEAF_PARAMS = [
  { type: "address" },
  { type: "uint64" },
  { type: "address" },
  { type: "uint256" },
  { type: "uint256" },
  { type: "uint64" },
  { type: "address" },
  { type: "uint16" },
] as const;

/** A deal's leaf in the tree of the batch that opened it; equal to the contract's `leafOf(provider, terms)`. */
export function trustLeaf(provider: Address, t: TrustTerms): Hex {
  return keccak256(encodeAbiParameters(LEAF_PARAMS, [provider, t.nonce, t.jobCreator, t.price, t.collateral, t.deadline, t.moduleCreator, t.royaltyBps]));
}
