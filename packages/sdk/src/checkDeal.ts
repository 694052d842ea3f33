// What a job creator checks before signing a deal the solver proposes. The solver is not trusted:
// every term must follow from the job creator's own offer and from a resource offer the provider
// really signed.
import { isAddressEqual, type Hex } from "viem";
import { policyById } from "@lily/verification";
import { LilyError, commonMediators, hashRecord, mediatorSetHash, verifyRecord, type Deal, type Domain, type JobOffer, type ResourceOfferRecord } from "@lily/protocol";

function reject(field: string, message: string): never {
  throw new LilyError({ code: "CONFLICT", field: `deal.${field}`, message: `refusing to sign deal: ${message}` });
}

export async function checkDeal(
  domain: Domain,
  deal: Deal,
  job: { id: Hex; offer: JobOffer },
  resourceOffer: ResourceOfferRecord | undefined,
  nowSeconds: number,
): Promise<void> {
  const o = job.offer;
  // REJECT: the deal must be for this job creator and this job offer
  if (!isAddressEqual(deal.jobCreator, o.jobCreator)) reject("jobCreator", "it names another job creator");
  if (deal.jobOffer !== job.id) reject("jobOffer", "it is for another job offer");
  // REJECT: never pay more than the offer allows
  if (deal.price > o.maxPrice) reject("price", `price ${deal.price} exceeds maxPrice ${o.maxPrice}`);
  // REJECT: the verification policy is the one the job creator chose
  if (deal.policy !== o.policy || deal.policyParam !== o.policyParam) reject("policy", "policy differs from the job offer");
  // REJECT: the deadline must give the provider the job's time, and not lock funds much longer
  const latest = BigInt(nowSeconds) + o.timeoutSeconds + 600n;
  if (deal.deadline <= BigInt(nowSeconds) || deal.deadline > latest) reject("deadline", `deadline ${deal.deadline} is outside [now, now + timeout + 600s]`);
  // REJECT: the terms must come from a resource offer the provider signed
  if (!resourceOffer) reject("resourceOffer", "the provider's resource offer is unknown to the solver");
  const r = resourceOffer.offer;
  if (hashRecord(domain, "ResourceOffer", r) !== deal.resourceOffer) reject("resourceOffer", "resource offer id does not match its terms");
  await verifyRecord(domain, "ResourceOffer", r, resourceOffer.signature, { field: "resourceOffer.signature" });
  if (!isAddressEqual(r.provider, deal.provider)) reject("provider", "provider differs from the resource offer's signer");
  if (r.price !== deal.price || r.collateral !== deal.collateral) reject("price", "price or collateral differ from the resource offer");
  if (!r.modules.includes(o.module)) reject("resourceOffer.modules", "the provider does not allow this module");
  // REJECT: dispute terms and royalty must be the job offer's, mediators only those both accepted
  if (deal.mediationFee !== o.mediationFee) reject("mediationFee", "mediation fee differs from the job offer");
  if (deal.mediators !== mediatorSetHash(commonMediators(o.mediators, r.mediators))) reject("mediators", "mediator set is not the one both parties accept");
  if (!isAddressEqual(deal.moduleCreator, o.moduleCreator) || deal.royaltyBps !== o.royaltyBps) reject("royaltyBps", "royalty terms differ from the job offer");
  // REJECT: terms the contract would refuse as unsafe (e.g. collateral too low for the audit rate)
  const unsafe = policyById(deal.policy)?.check({ price: deal.price, collateral: deal.collateral, mediationFee: deal.mediationFee, param: deal.policyParam });
  if (unsafe) reject("policy", `the policy is unsafe with these terms: ${unsafe}`);
}
