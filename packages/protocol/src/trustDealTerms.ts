// A trust deal as LilyTrustDeals opens it, derived from the deal the roles negotiate: the solver
// proposes, and both parties check, one `Deal` (its digest is the deal's id everywhere off chain);
// where the network has a LilyTrustDeals contract, a trust deal is signed and opened as the
// `TrustDeal` these functions derive from it and a nonce. The provider picks the nonce when it
// signs, the next in its own sequence (it signs first; the job creator signs the same TrustDeal):
// the contract opens one deal per provider and nonce and keeps 128 nonces' states in one word, so
// nonces in sequence share their storage writes (17.3k gas per deal at batch 100, against 45k for
// scattered ones). Nobody else can pick a provider's nonce: it is inside the provider's signature.
import type { Hex } from "viem";
import { trustDealOffers, type DealMessage, type TrustDealMessage } from "./eip712.ts";
import { Policy } from "./policy.ts";

/** Whether a deal of these terms is a trust deal (and so opens on LilyTrustDeals where there is one). */
export function isTrustDeal(deal: Pick<DealMessage, "policy">): boolean {
  return deal.policy === Policy.trust;
}

/** The TrustDeal a trust deal is signed and opened as, under the nonce its provider picked. */
export function trustDealOf(deal: DealMessage, nonce: bigint): TrustDealMessage {
  return {
    jobCreator: deal.jobCreator,
    provider: deal.provider,
    offers: trustDealOffers(deal.jobOffer, deal.resourceOffer),
    price: deal.price,
    collateral: deal.collateral,
    openBy: deal.openBy,
    deadline: deal.deadline,
    nonce,
    moduleCreator: deal.moduleCreator,
    royaltyBps: deal.royaltyBps,
  };
}

/**
 * The nonce a trust deal stored before providers picked them (11-28) was signed under: its id's
 * top 64 bits. A role that reads back such a deal with no nonce of its own uses this, so deals in
 * flight across the upgrade still open, settle and time out under the TrustDeal both parties signed.
 */
export function legacyTrustNonce(dealId: Hex): bigint {
  return BigInt(dealId.slice(0, 18));
}
