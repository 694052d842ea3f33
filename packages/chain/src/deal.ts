// The deal as the chain sees it: its signing domain, its id and its on-chain state.
import type { Hex } from "viem";
import { hashRecord, type DealMessage, type Domain } from "@lily/protocol";
import type { LilyAddresses } from "./deploy.ts";

/**
 * On-chain deal states, indexed by the contract's `DealState` enum value. Terminal: settled
 * (provider paid), timedOut (deadline missed, or a mediation nobody ruled on was unwound) and
 * slashed (provider proven wrong).
 */
export const dealStates = ["none", "open", "committed", "challenged", "settled", "timedOut", "slashed"] as const;
export type DealStateName = (typeof dealStates)[number];

/** The EIP-712 domain deals are signed under: this chain and this LilyDeals contract. */
export function dealDomain(addresses: Pick<LilyAddresses, "chainId" | "deals">): Domain {
  return { chainId: addresses.chainId, verifyingContract: addresses.deals };
}

/** The deal id, computed off chain; equal to the contract's `hashDeal(deal)`. */
export function dealId(addresses: Pick<LilyAddresses, "chainId" | "deals">, deal: DealMessage): Hex {
  return hashRecord(dealDomain(addresses), "Deal", deal);
}

/** A replica group in the contracts' order: ascending by provider address. */
export function sortReplicas<T>(items: readonly T[], dealOf: (item: T) => DealMessage): T[] {
  return [...items].sort((a, b) => {
    const [x, y] = [BigInt(dealOf(a).provider), BigInt(dealOf(b).provider)];
    return x < y ? -1 : x > y ? 1 : 0;
  });
}
