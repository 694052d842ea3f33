// The terms of a deal, derived from the two signed offers it joins: one function the solver uses
// to propose and both parties use to check, so what one side proposes and what the other signs
// cannot drift apart. Every field follows from the offers except the two the proposer chooses:
// until when the deal can be opened (`openBy`; the deadline is that plus the job's timeout) and,
// under replicate(k), the group of providers. A checker re-derives the deal with those choices,
// refuses the first field that differs, and then holds the choices to its own bounds.
import { isAddressEqual, type Address, type Hex } from "viem";
import { types, type DealMessage, type JobOfferMessage, type ResourceOfferMessage } from "./eip712.ts";
import { dealMediators, mediatorSetHash, NO_REPLICAS, replicaGroupHash, sortedAddresses } from "./mediators.ts";
import { Policy } from "./policy.ts";

export interface SignedOfferRef<T> {
  /** The offer's EIP-712 digest. */
  id: Hex;
  offer: T;
}

/** What the proposer of a deal chooses; everything else follows from the offers. */
export interface DealChoices {
  /** Unix seconds: the deal can be opened at or before it. */
  openBy: bigint;
  /** Under replicate(k): the group's k providers, in any order (this deal's among them); else empty. */
  group?: readonly Address[];
}

/** The deal a job offer and a resource offer make, with the proposer's choices. */
export function deriveDeal(job: SignedOfferRef<JobOfferMessage>, resource: SignedOfferRef<ResourceOfferMessage>, choices: DealChoices): DealMessage {
  const j = job.offer;
  const r = resource.offer;
  const group = choices.group ?? [];
  const parties = group.length > 0 ? [j.jobCreator, ...group] : [j.jobCreator, r.provider];
  return {
    jobCreator: j.jobCreator,
    provider: r.provider,
    jobOffer: job.id,
    resourceOffer: resource.id,
    price: r.price,
    collateral: r.collateral,
    openBy: choices.openBy,
    // The provider gets the job's whole timeout even if the deal opens at the last moment.
    deadline: choices.openBy + j.timeoutSeconds,
    policy: j.policy,
    policyParam: j.policyParam,
    mediationFee: j.mediationFee,
    mediators: mediatorSetHash(dealMediators(j.mediators, r.mediators, parties)),
    replicas: group.length > 0 ? replicaGroupHash(group) : NO_REPLICAS,
    moduleCreator: j.moduleCreator,
    royaltyBps: j.royaltyBps,
  };
}

/** The deal's fields in signing order. */
export const DEAL_FIELDS = types.Deal.map((f) => f.name) as readonly (keyof DealMessage)[];

/** The first field (in signing order) in which `deal` differs from `expected`, if any. */
export function differingField(expected: DealMessage, deal: DealMessage): keyof DealMessage | undefined {
  const norm = (v: unknown) => (typeof v === "string" ? v.toLowerCase() : v);
  return DEAL_FIELDS.find((k) => norm(expected[k]) !== norm(deal[k]));
}

export interface DealBounds {
  /** The checker's clock, unix seconds. */
  now: number;
  /** The latest `openBy` the checker signs, in seconds after `now`: how long it holds itself ready. */
  maxOpenDelaySeconds: number;
  /** Under replicate(k): the group the proposer says the deal belongs to. */
  group?: readonly Address[];
}

export interface TermsRejection {
  /** The deal field at fault, e.g. `deal.price`. */
  field: string;
  reason: string;
}

/**
 * Check a proposed deal against the offers it claims to join. Returns why the checker must not
 * sign it, or undefined. The caller still checks what only it knows: that the offers are signed,
 * that it can afford and serve them, that the job fits.
 */
export function checkDealTerms(
  deal: DealMessage,
  job: SignedOfferRef<JobOfferMessage>,
  resource: SignedOfferRef<ResourceOfferMessage>,
  bounds: DealBounds,
): TermsRejection | undefined {
  const group = bounds.group ?? [];
  // REJECT: a replica names its whole group of k distinct providers, itself among them; other deals none
  if (deal.policy === Policy.replicate) {
    const k = Number(job.offer.policyParam);
    if (sortedAddresses(group).length !== group.length || group.length !== k) {
      return { field: "deal.replicas", reason: `the replica group must be ${k} distinct providers, got ${group.length}` };
    }
    if (!group.some((p) => isAddressEqual(p, deal.provider)))
      return { field: "deal.replicas", reason: "the replica group does not include the deal's provider" };
  } else if (group.length > 0) {
    return { field: "deal.replicas", reason: "only a replicate(k) deal belongs to a group" };
  }
  // REJECT: every field must be the one the two offers (and the proposer's choices) give
  const expected = deriveDeal(job, resource, { openBy: deal.openBy, group });
  const field = differingField(expected, deal);
  if (field) return { field: `deal.${field}`, reason: `${field} is ${String(deal[field])}, but the offers give ${String(expected[field])}` };
  // REJECT: the opening window must be open now and no longer than the checker holds itself ready
  const now = BigInt(bounds.now);
  if (deal.openBy < now) return { field: "deal.openBy", reason: `openBy ${deal.openBy} has already passed (now ${now})` };
  if (deal.openBy > now + BigInt(bounds.maxOpenDelaySeconds)) {
    return { field: "deal.openBy", reason: `openBy ${deal.openBy} is more than ${bounds.maxOpenDelaySeconds}s away (now ${now})` };
  }
  return undefined;
}
