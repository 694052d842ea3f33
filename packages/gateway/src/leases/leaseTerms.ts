// The lease the gateway proposes to a provider for one of its model offers: the offer's prices and
// collateral, a budget, a period, and the gateway's mediator when the provider accepts it. Pure.
import { zeroAddress, type Address } from "viem";
import type { Lease, ModelOffer } from "@lily/protocol";

export interface TermsInput {
  payer: Address;
  offer: ModelOffer;
  budget: bigint;
  now: number;
  leaseSeconds: number;
  /** The auditing mediator, when the gateway has one. */
  mediator?: Address;
  mediationFee: bigint;
  auditBps: number;
  royalty: { moduleCreator: Address; royaltyBps: number };
  nonce: bigint;
}

/** Seconds the gateway gives itself to open a lease on chain once the provider has signed. */
export const OPEN_WITHIN_SECONDS = 120;

export function leaseTerms(t: TermsInput): Lease {
  const accepted = t.mediator !== undefined && t.offer.mediators.some((m) => m.toLowerCase() === t.mediator!.toLowerCase());
  return {
    payer: t.payer,
    provider: t.offer.provider,
    model: t.offer.model,
    budget: t.budget,
    collateral: t.offer.collateral,
    inputPricePer1k: t.offer.inputPricePer1k,
    outputPricePer1k: t.offer.outputPricePer1k,
    openBy: BigInt(t.now + OPEN_WITHIN_SECONDS),
    expiresAt: BigInt(t.now + t.leaseSeconds),
    // An audit needs a mediator both accept; without one the lease is unaudited.
    mediator: accepted ? t.mediator! : zeroAddress,
    mediationFee: accepted ? t.mediationFee : 0n,
    auditBps: accepted ? t.auditBps : 0,
    moduleCreator: t.royalty.moduleCreator,
    royaltyBps: t.royalty.royaltyBps,
    nonce: t.nonce,
  };
}
