// Score plugins rank the offers that passed every filter. Each returns 0..100; the matcher sums
// them by weight and proposes the highest.
import type { JobOffer, ResourceOffer } from "@lily/protocol";
import type { MatchContext } from "./filters.ts";
import { RESOURCE_KEYS, type Resources } from "./resources.ts";

export interface ScorePlugin {
  name: string;
  weight: number;
  /** 0 (worst) to 100 (best). */
  score(job: JobOffer, offer: ResourceOffer, ctx: MatchContext): number;
  /**
   * The most `score` can give this offer, or any dearer one of the same capacity, while its
   * provider owes `used`, whatever else the context holds. The indexed matcher (offerIndex.ts)
   * ranks lazily with it and stops once no offer left can beat what it found; without it, 100.
   */
  ceiling?(job: JobOffer, offer: ResourceOffer, used: Resources): number;
}

const budgetKept = (job: JobOffer, offer: ResourceOffer) => (job.maxPrice === 0n ? 100 : Number(((job.maxPrice - offer.price) * 100n) / job.maxPrice));

/** The share of the job's budget the job creator keeps: a free offer scores 100, one at maxPrice 0. */
export const cheapestPrice: ScorePlugin = {
  name: "cheapest-price",
  weight: 2,
  score: (job, offer) => budgetKept(job, offer),
  // The score only falls as the price rises.
  ceiling: budgetKept,
};

function spare(job: JobOffer, offer: ResourceOffer, used: Resources): number {
  // A plain loop (the matcher calls this for every class a job reads): the same sum, in the same order, as a filter and reduce.
  let dims = 0;
  let free = 0;
  for (const k of RESOURCE_KEYS) {
    if (!(offer[k] > 0)) continue;
    dims++;
    free += Math.max(0, offer[k] - used[k] - job[k]) / offer[k];
  }
  if (dims === 0) return 0;
  return Math.round((free / dims) * 100);
}

/** The share of the provider's capacity still free once the job runs: spreads load. */
export const mostSpareCapacity: ScorePlugin = {
  name: "most-spare-capacity",
  weight: 1,
  score: (job, offer, { used }) => spare(job, offer, used),
  // Exact: the score depends on nothing but the capacity and what the provider owes.
  ceiling: spare,
};

export const defaultScores: readonly ScorePlugin[] = [cheapestPrice, mostSpareCapacity];
