// What a job creator checks before signing a deal the solver proposes. The solver is not trusted:
// every term is re-derived from the job creator's own offer and a resource offer the provider
// really signed (protocol's checkDealTerms, the same derivation the solver proposes with and the
// provider checks with), and then what only the job creator knows is checked: what it will pay,
// that the provider offered this module, and that its policy is safe with these terms.
import type { Address, Hex } from "viem";
import { policyById } from "@lily/verification";
import {
  LilyError,
  checkDealTerms,
  hashRecord,
  sortedAddresses,
  verifyRecord,
  type DealMessage,
  type Domain,
  type JobOffer,
  type ResourceOfferRecord,
} from "@lily/protocol";

/** How far ahead a deal's `openBy` may be: how long the job creator holds itself to a signed deal. */
export const DEFAULT_MAX_OPEN_DELAY_SECONDS = 600;

export interface CheckDealOptions {
  /** The latest openBy signed, in seconds after `now`; default 600. */
  maxOpenDelaySeconds?: number;
  /** Under replicate(k): the group the solver says this deal belongs to (DealRecord.group). */
  group?: readonly Address[];
}

function reject(field: string, message: string, details: Record<string, unknown> = {}): never {
  throw new LilyError({ code: "CONFLICT", field, message: `refusing to sign deal: ${message}`, details });
}

/**
 * Resolves when the job creator may sign `deal`; otherwise throws CONFLICT (or BAD_SIGNATURE for
 * the provider's offer signature) naming the field at fault, e.g. `deal.price`.
 */
export async function checkDeal(
  domain: Domain,
  deal: DealMessage,
  job: { id: Hex; offer: JobOffer },
  resourceOffer: Pick<ResourceOfferRecord, "id" | "offer" | "signature"> | undefined,
  nowSeconds: number,
  opts: CheckDealOptions = {},
): Promise<void> {
  // REJECT: the terms must come from a resource offer the solver can show
  if (!resourceOffer) reject("deal.resourceOffer", "the provider's resource offer is unknown to the solver");
  const r = resourceOffer.offer;
  // REJECT: the resource offer shown must be the one the deal names, byte for byte (its id is its hash)
  const resourceId = hashRecord(domain, "ResourceOffer", r);
  if (resourceId !== resourceOffer.id) reject("deal.resourceOffer", `the resource offer shown hashes to ${resourceId}, not ${resourceOffer.id}`);
  // REJECT: every deal field must be the one the two offers give; openBy soon enough; a replica's group k distinct providers, itself among them
  const terms = checkDealTerms(
    deal,
    job,
    { id: resourceId, offer: r },
    {
      now: nowSeconds,
      maxOpenDelaySeconds: opts.maxOpenDelaySeconds ?? DEFAULT_MAX_OPEN_DELAY_SECONDS,
      ...(opts.group && { group: opts.group }),
    },
  );
  if (terms) reject(terms.field, terms.reason);
  // REJECT: the provider must really have signed its offer, by the contracts' own signature rules
  await verifyRecord(domain, "ResourceOffer", r, resourceOffer.signature, { field: "resourceOffer.signature" });
  // REJECT: never pay more than the offer allows
  if (deal.price > job.offer.maxPrice) reject("deal.price", `price ${deal.price} exceeds maxPrice ${job.offer.maxPrice}`);
  // REJECT: the provider must have offered to run this module
  if (!r.modules.includes(job.offer.module)) reject("deal.resourceOffer.modules", "the provider does not allow this module");
  // REJECT: terms the contract would refuse as unsafe (e.g. collateral too low for the audit rate)
  const unsafe = policyById(deal.policy)?.check({ price: deal.price, collateral: deal.collateral, mediationFee: deal.mediationFee, param: deal.policyParam });
  if (unsafe) reject("deal.policy", `the policy is unsafe with these terms: ${unsafe}`);
}

/**
 * Why the job creator must not sign these k proposals as one replicate(k) group, or undefined:
 * it signs a group only whole, of k distinct providers, each deal naming exactly those k (so the
 * group it signs is the group that opens and is tallied).
 */
export function replicaGroupFlaw(
  proposals: readonly { deal: DealMessage; group?: readonly Address[] }[],
  k: number,
): { field: string; reason: string } | undefined {
  // REJECT: a group is signed whole or not at all
  if (proposals.length !== k) return { field: "deal.replicas", reason: `a replicate(${k}) group needs ${k} deals, got ${proposals.length}` };
  const providers = sortedAddresses(proposals.map((p) => p.deal.provider));
  // REJECT: k distinct providers, or one provider could outvote the others
  if (providers.length !== k) return { field: "deal.provider", reason: `the ${k} replicas are not ${k} distinct providers` };
  // REJECT: every deal names the group of exactly these providers
  const key = providers.join();
  const other = proposals.find((p) => sortedAddresses(p.group ?? []).join() !== key);
  if (other) return { field: "deal.replicas", reason: `deal with ${other.deal.provider} names a group other than the ${k} providers proposed` };
  return undefined;
}
