// A trust deal signed by both its parties, as a solver would open it on LilyTrustDeals, for the
// gateway's tests of the network page on a network with trust deals.
import { keccak256, toHex, type Address } from "viem";
import { trustDealDomain, type LilyAddresses, type LilyClient } from "@lily/chain";
import { signRecord, trustDealOffers, type TrustDealMessage } from "@lily/protocol";

export interface TrustDealTerms {
  nonce: bigint;
  price: bigint;
  collateral: bigint;
  /** Seconds from the chain's latest block to the deal's deadline (it must open the second before). */
  deadlineIn: bigint;
  moduleCreator: Address;
  royaltyBps: number;
}

/** The deal of `jobCreator` and `provider` on these terms, with both signatures. */
export async function signedTrustDeal(addresses: LilyAddresses, jobCreator: LilyClient, provider: LilyClient, t: TrustDealTerms) {
  const now = (await jobCreator.publicClient.getBlock()).timestamp;
  const deal: TrustDealMessage = {
    jobCreator: jobCreator.account!.address,
    provider: provider.account!.address,
    offers: trustDealOffers(keccak256(toHex(`job offer ${t.nonce}`)), keccak256(toHex("resource offer"))),
    price: t.price,
    collateral: t.collateral,
    openBy: now + t.deadlineIn - 1n,
    deadline: now + t.deadlineIn,
    nonce: t.nonce,
    moduleCreator: t.moduleCreator,
    royaltyBps: t.royaltyBps,
  };
  const sign = (c: LilyClient) => signRecord(c.account!, trustDealDomain(addresses), "TrustDeal", deal);
  return { deal, jobCreatorSig: await sign(jobCreator), providerSig: await sign(provider) };
}
