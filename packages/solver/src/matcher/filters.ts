// Filter plugins: each decides alone whether one resource offer can take one job offer, and when
// it cannot, says why. The reasons end up in the job offer's `rejections`, so "why did nothing
// match?" always has an answer.
import { policyById } from "@lily/verification";
import type { Address } from "viem";
import type { JobOffer, ResourceOffer } from "@lily/protocol";
import { RESOURCE_KEYS, type Resources } from "./resources.ts";

export interface MatchContext {
  /** Unix seconds. */
  now: bigint;
  /** What the provider already owes its active deals, including proposals made earlier in this plan. */
  used: Resources;
  /** Providers that may not take this job offer (they rejected it or timed out on it), with why. */
  excluded: Readonly<Record<Address, string>>;
}

export interface FilterPlugin {
  name: string;
  /** `undefined` when the offer can take the job; otherwise the reason it cannot. */
  filter(job: JobOffer, offer: ResourceOffer, ctx: MatchContext): string | undefined;
}

const sameAddress = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

export const notExpired: FilterPlugin = {
  name: "expiry",
  filter(job, offer, { now }) {
    if (job.expiresAt <= now) return `job offer expired at ${job.expiresAt}`;
    if (offer.expiresAt <= now) return `resource offer expired at ${offer.expiresAt}`;
    return undefined;
  },
};

export const notExcluded: FilterPlugin = {
  name: "excluded",
  filter: (_job, offer, { excluded }) => excluded[offer.provider],
};

export const moduleAllowed: FilterPlugin = {
  name: "module",
  filter: (job, offer) => (offer.modules.includes(job.module) ? undefined : `module ${job.module} is not in the provider's allow-list`),
};

export const priceWithinBudget: FilterPlugin = {
  name: "price",
  filter: (job, offer) => (offer.price > job.maxPrice ? `price ${offer.price} is above maxPrice ${job.maxPrice}` : undefined),
};

export const mediatorAccepted: FilterPlugin = {
  name: "mediators",
  filter(job, offer) {
    if (job.mediators.length === 0) return undefined;
    if (job.mediators.some((m) => offer.mediators.some((o) => sameAddress(m, o)))) return undefined;
    return "accepts none of the job's mediators";
  },
};

/** The deal this pair would make must pass the policy's safety rule, or the contract refuses it. */
export const policySafe: FilterPlugin = {
  name: "policy",
  filter(job, offer) {
    const strategy = policyById(job.policy);
    if (!strategy) return `unknown policy ${job.policy}`;
    return strategy.check({ price: offer.price, collateral: offer.collateral, mediationFee: job.mediationFee, param: job.policyParam });
  },
};

export const resourcesFit: FilterPlugin = {
  name: "resources",
  filter(job, offer, { used }) {
    const short = RESOURCE_KEYS.filter((k) => job[k] > offer[k] - used[k]);
    if (short.length === 0) return undefined;
    return short.map((k) => `${k}: needs ${job[k]}, ${Math.max(0, offer[k] - used[k])} of ${offer[k]} free`).join("; ");
  },
};

/** Cheap checks first: the first filter that rejects gives the reason. */
export const defaultFilters: readonly FilterPlugin[] = [notExpired, notExcluded, moduleAllowed, priceWithinBudget, mediatorAccepted, policySafe, resourcesFit];
