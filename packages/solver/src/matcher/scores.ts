// Score plugins rank the offers that passed every filter. Each returns 0..100; the matcher sums
// them by weight and proposes the highest.
import type { JobOffer, ResourceOffer } from "@lily/protocol";
import type { MatchContext } from "./filters.ts";
import { RESOURCE_KEYS } from "./resources.ts";

export interface ScorePlugin {
  name: string;
  weight: number;
  /** 0 (worst) to 100 (best). */
  score(job: JobOffer, offer: ResourceOffer, ctx: MatchContext): number;
}

/** The share of the job's budget the job creator keeps: a free offer scores 100, one at maxPrice 0. */
export const cheapestPrice: ScorePlugin = {
  name: "cheapest-price",
  weight: 2,
  score: (job, offer) => (job.maxPrice === 0n ? 100 : Number(((job.maxPrice - offer.price) * 100n) / job.maxPrice)),
};

/** The share of the provider's capacity still free once the job runs: spreads load. */
export const mostSpareCapacity: ScorePlugin = {
  name: "most-spare-capacity",
  weight: 1,
  score(job, offer, { used }) {
    const dims = RESOURCE_KEYS.filter((k) => offer[k] > 0);
    if (dims.length === 0) return 0;
    const spare = dims.reduce((sum, k) => sum + Math.max(0, offer[k] - used[k] - job[k]) / offer[k], 0);
    return Math.round((spare / dims.length) * 100);
  },
};

export const defaultScores: readonly ScorePlugin[] = [cheapestPrice, mostSpareCapacity];
