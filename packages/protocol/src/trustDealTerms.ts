// A trust deal as LilyTrustDeals opens it, derived from the deal the roles negotiate: the solver
// proposes, and both parties check, one `Deal` (its digest is the deal's id everywhere off chain);
// where the network has a LilyTrustDeals contract, a trust deal is signed and opened as the
// `TrustDeal` these functions derive from it. Its nonce is the id's top 8 bytes, so the same deal
// always gets the same nonce (a party signing twice signs the same trust deal) and no party picks
// one: two deals of a provider share a nonce only by a 64-bit collision, and then the second
// cannot open (the contract opens one deal per provider and nonce) and lapses, locking nothing.
import type { Hex } from "viem";
import { trustDealOffers, type DealMessage, type TrustDealMessage } from "./eip712.ts";
import { Policy } from "./policy.ts";

/** The trust deal nonce of a deal: the top 64 bits of its id. */
export function trustNonceOf(dealId: Hex): bigint {
  return BigInt(dealId.slice(0, 18));
}

/** Whether a deal of these terms is a trust deal (and so opens on LilyTrustDeals where there is one). */
export function isTrustDeal(deal: Pick<DealMessage, "policy">): boolean {
  return deal.policy === Policy.trust;
}

/** The TrustDeal a trust deal with this id is signed and opened as. */
export function trustDealOf(dealId: Hex, deal: DealMessage): TrustDealMessage {
  return {
    jobCreator: deal.jobCreator,
    provider: deal.provider,
    offers: trustDealOffers(deal.jobOffer, deal.resourceOffer),
    price: deal.price,
    collateral: deal.collateral,
    openBy: deal.openBy,
    deadline: deal.deadline,
    nonce: trustNonceOf(dealId),
    moduleCreator: deal.moduleCreator,
    royaltyBps: deal.royaltyBps,
  };
}
