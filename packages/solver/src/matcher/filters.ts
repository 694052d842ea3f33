// Filter plugins: each decides alone whether one resource offer can take one job offer, and when
// it cannot, says why. The reasons end up in the job offer's `rejections`, so "why did nothing
// match?" always has an answer. A filter is `transient` when waiting can lift its rejection
// (capacity in use, escrow held for unopened deals) and not when only a new offer or a deposit
// can (module, price, policy, mediators, total capacity, expiry, free escrow): that is how the
// dry run tells a job that will match once the network frees up from one that never will.
import type { Address } from "viem";
import { formatLily, type JobOffer, type ResourceOffer } from "@lily/protocol";
import { RESOURCE_KEYS, type Resources } from "./resources.ts";
import { escrowCovers, escrowNotHeld } from "./escrow.ts";
import { strategyOf } from "./locks.ts";

/** A party's escrow as the matcher sees it, in LILY wei. */
export interface Backing {
  /** Free (unlocked) escrow on chain. */
  free: bigint;
  /** What its proposed or signed deals, not yet opened, would lock when they open. */
  held: bigint;
  /** The contract holding it, when not LilyDeals (a routed trust deal's: "LilyTrustDeals"), for the reason to name. */
  escrow?: string;
}

export interface MatchContext {
  /** Unix seconds. */
  now: bigint;
  /** What the provider already owes its active deals, including proposals made earlier in this plan. */
  used: Resources;
  /** Providers that may not take this job offer (they rejected it or timed out on it), with why. */
  excluded: Readonly<Record<Address, string>>;
  /** The escrow of the job offer's job creator and of the resource offer's provider. */
  escrow: { jobCreator: Backing; provider: Backing };
}

export interface FilterPlugin {
  name: string;
  /** Whether waiting (for capacity or escrow to free up) can lift this filter's rejection. */
  transient: boolean;
  /** `undefined` when the offer can take the job; otherwise the reason it cannot. */
  filter(job: JobOffer, offer: ResourceOffer, ctx: MatchContext): string | undefined;
}

export const notExpired: FilterPlugin = {
  name: "expiry",
  transient: false,
  filter(job, offer, { now }) {
    if (job.expiresAt <= now) return `job offer expired at ${job.expiresAt}`;
    if (offer.expiresAt <= now) return `resource offer expired at ${offer.expiresAt}`;
    return undefined;
  },
};

export const notExcluded: FilterPlugin = {
  name: "excluded",
  transient: false,
  filter: (_job, offer, { excluded }) => excluded[offer.provider],
};

export const moduleAllowed: FilterPlugin = {
  name: "module",
  transient: false,
  filter: (job, offer) => (offer.modules.includes(job.module) ? undefined : `module ${job.module} is not in the provider's allow-list`),
};

export const priceWithinBudget: FilterPlugin = {
  name: "price",
  transient: false,
  filter: (job, offer) => (offer.price > job.maxPrice ? `price ${formatLily(offer.price)} is above maxPrice ${formatLily(job.maxPrice)}` : undefined),
};

/**
 * Whether `dealMediators(job.mediators, offer.mediators, [job.jobCreator, offer.provider])` is not
 * empty: a mediator both list that is neither party, looked for in the two short lists as they
 * are, without building (deduplicating, checksumming, sorting) the set itself.
 */
function sharesNeutralMediator(job: JobOffer, offer: ResourceOffer): boolean {
  if (offer.mediators.length === 0) return false;
  const creator = job.jobCreator.toLowerCase();
  const provider = offer.provider.toLowerCase();
  for (const m of job.mediators) {
    const mediator = m.toLowerCase();
    if (mediator === creator || mediator === provider) continue;
    for (const o of offer.mediators) if (o.toLowerCase() === mediator) return true;
  }
  return false;
}

/**
 * Whether the two lists name a mediator in common, party or not: what `commonMediators(job,
 * offer).length > 0` says, without building (deduplicating, checksumming, sorting) the list. Asked
 * only to word a rejection, and a replicated job meets one for every cheap offer that lists no
 * mediator (they stay cheapest on the book, so every such job evaluates them again): that list
 * was the most of such a job's time.
 */
function sharesAnyMediator(job: JobOffer, offer: ResourceOffer): boolean {
  for (const m of job.mediators) {
    const mediator = m.toLowerCase();
    for (const o of offer.mediators) if (o.toLowerCase() === mediator) return true;
  }
  return false;
}

/** Whether the job lists mediators or its policy needs one: then `mediatorAccepted` refuses every offer that lists none (the offer index skips those). */
export function requiresMediator(job: JobOffer): boolean {
  return job.mediators.length > 0 || (strategyOf(job.policy)?.needsMediators ?? false);
}

/**
 * The deal must carry a mediator both offers accept that is not one of its parties (nobody rules
 * on a dispute it is party to), whenever the job lists mediators or its policy needs one.
 */
export const mediatorAccepted: FilterPlugin = {
  name: "mediators",
  transient: false,
  filter(job, offer) {
    if (!requiresMediator(job)) return undefined;
    if (sharesNeutralMediator(job, offer)) return undefined;
    if (job.mediators.length === 0) return "the policy needs a mediator and the job lists none";
    if (sharesAnyMediator(job, offer)) return "accepts none of the job's mediators but the deal's own parties";
    return "accepts none of the job's mediators";
  },
};

/** The deal this pair would make must pass the policy's safety rule, or the contract refuses it. */
export const policySafe: FilterPlugin = {
  name: "policy",
  transient: false,
  filter(job, offer) {
    const strategy = strategyOf(job.policy);
    if (!strategy) return `unknown policy ${job.policy}`;
    return strategy.check({ price: offer.price, collateral: offer.collateral, mediationFee: job.mediationFee, param: job.policyParam });
  },
};

/** The job must fit the offer at all, even with nothing else running. */
export const capacityFits: FilterPlugin = {
  name: "capacity",
  transient: false,
  filter(job, offer) {
    // The common case first, without building the list of what is short.
    if (job.cpu <= offer.cpu && job.memoryMb <= offer.memoryMb && job.gpu <= offer.gpu && job.vramMb <= offer.vramMb) return undefined;
    const short = RESOURCE_KEYS.filter((k) => job[k] > offer[k]);
    return short.length === 0 ? undefined : short.map((k) => `${k}: needs ${job[k]}, the offer has ${offer[k]}`).join("; ");
  },
};

/** The job must fit what the provider's active deals leave free. */
export const resourcesFree: FilterPlugin = {
  name: "resources",
  transient: true,
  filter(job, offer, { used }) {
    if (
      job.cpu <= offer.cpu - used.cpu &&
      job.memoryMb <= offer.memoryMb - used.memoryMb &&
      job.gpu <= offer.gpu - used.gpu &&
      job.vramMb <= offer.vramMb - used.vramMb
    )
      return undefined;
    const short = RESOURCE_KEYS.filter((k) => job[k] > offer[k] - used[k]);
    if (short.length === 0) return undefined;
    return short.map((k) => `${k}: needs ${job[k]}, ${Math.max(0, offer[k] - used[k])} of ${offer[k]} free`).join("; ");
  },
};

export { escrowCovers, escrowNotHeld };

/**
 * Cheap checks first, and every lasting one before the transient ones, so the first filter that
 * rejects gives the reason and a transient first reason means waiting is all it takes.
 */
export const defaultFilters: readonly FilterPlugin[] = [
  notExpired,
  notExcluded,
  moduleAllowed,
  priceWithinBudget,
  mediatorAccepted,
  policySafe,
  capacityFits,
  escrowCovers,
  escrowNotHeld,
  resourcesFree,
];
