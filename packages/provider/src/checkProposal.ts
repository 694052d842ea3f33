// What a provider checks before signing a deal the solver proposes: the terms must follow from
// its own current resource offer and from a job offer the job creator really signed, for a
// module it allows, with inputs that fit the module's schema.
import { isAddressEqual, zeroAddress, type Hex } from "viem";
import {
  LilyError,
  commonMediators,
  mediatorSetHash,
  hashRecord,
  verifyRecord,
  validateInputs,
  ModuleManifest,
  parse,
  type DealRecord,
  type Domain,
  type JobOfferRecord,
  type ResourceOffer,
} from "@lily/protocol";
import type { StoreClient } from "@lily/store";

function decline(code: "CONFLICT" | "MODULE_NOT_ALLOWED" | "INVALID_INPUT", field: string, message: string): never {
  throw new LilyError({ code, field, message });
}

export async function checkProposal(
  domain: Domain,
  me: Hex,
  offers: Map<string, ResourceOffer>,
  record: DealRecord,
  job: JobOfferRecord,
  store: StoreClient,
  nowSeconds: number,
): Promise<ModuleManifest> {
  const d = record.deal;
  // REJECT: the deal must name this provider and carry its own signed resource offer's terms
  if (!isAddressEqual(d.provider, me)) decline("CONFLICT", "deal.provider", "deal is for another provider");
  const mine = offers.get(d.resourceOffer);
  if (!mine) decline("CONFLICT", "deal.resourceOffer", "deal refers to a resource offer this provider did not make");
  if (d.price !== mine.price || d.collateral !== mine.collateral) decline("CONFLICT", "deal.price", "price or collateral differ from the resource offer");
  // REJECT: the job offer must be signed by the job creator and be the one the deal names
  if (hashRecord(domain, "JobOffer", job.offer) !== d.jobOffer) decline("CONFLICT", "deal.jobOffer", "job offer id does not match its terms");
  await verifyRecord(domain, "JobOffer", job.offer, job.signature, { field: "jobOffer.signature" });
  if (!isAddressEqual(job.offer.jobCreator, d.jobCreator)) decline("CONFLICT", "deal.jobCreator", "job creator differs from the job offer's signer");
  if (d.price > job.offer.maxPrice) decline("CONFLICT", "deal.price", "price exceeds the job's maxPrice");
  if (d.policy !== job.offer.policy) decline("CONFLICT", "deal.policy", "policy differs from the job offer");
  // REJECT: enough time to run the job before the deadline
  if (d.deadline < BigInt(nowSeconds) + job.offer.timeoutSeconds) decline("CONFLICT", "deal.deadline", "deadline leaves less than the job's timeout");
  // REJECT: only modules this provider allows
  if (!mine.modules.includes(job.offer.module)) decline("MODULE_NOT_ALLOWED", "module", `module ${job.offer.module} is not allowed by this provider`);
  // REJECT: the job must fit this offer's resources
  if (job.offer.cpu > mine.cpu || job.offer.memoryMb > mine.memoryMb || job.offer.gpu > mine.gpu) decline("CONFLICT", "resources", "job needs more than offered");
  // REJECT: dispute terms must be the job offer's, mediators only those both accepted
  if (d.mediationFee !== job.offer.mediationFee) decline("CONFLICT", "deal.mediationFee", "mediation fee differs from the job offer");
  if (d.mediators !== mediatorSetHash(commonMediators(job.offer.mediators, mine.mediators))) decline("CONFLICT", "deal.mediators", "mediator set is not the one both parties accept");
  const manifest = parse(ModuleManifest, await store.getRecord(job.offer.module), "module manifest");
  // REJECT: the royalty must be the module's own (else the provider's pay could be diverted)
  if (!isAddressEqual(d.moduleCreator, manifest.creator ?? zeroAddress) || d.royaltyBps !== manifest.royaltyBps) {
    decline("CONFLICT", "deal.royaltyBps", "royalty terms differ from the module's manifest");
  }
  // REJECT: inputs must satisfy the module's schema (else the job cannot run and the provider would be slashed)
  validateInputs(manifest, await store.getRecord<Record<string, unknown>>(job.offer.inputs));
  return manifest;
}
