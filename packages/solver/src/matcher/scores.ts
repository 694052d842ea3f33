// Score plugins rank the offers that passed every filter. Each returns 0..100; the matcher sums
// them by weight and proposes the highest.
import type { JobOffer, ResourceOffer } from "@lily/protocol";
import type { MatchContext } from "./filters.ts";
import type { Resources } from "./resources.ts";

export interface ScorePlugin {
  name: string;
  weight: number;
  /** 0 (worst) to 100 (best). */
  score(job: JobOffer, offer: ResourceOffer, ctx: MatchContext): number;
  /**
   * The most `score` can give an offer of capacity `caps` priced `price` (as a number:
   * `Number(offer.price)`, rounded above 2^53), or any dearer one of that capacity, while its
   * provider owes `used`, whatever else the context holds. The indexed matcher (offerIndex.ts)
   * ranks lazily with it and stops once no offer left can beat what it found; without it, 100. It
   * takes one for every offer it reads, from what the index keeps beside each offer, without
   * reading the offer itself (a cache miss or two each: most of what a ceiling cost).
   */
  ceiling?(job: JobOffer, caps: Resources, price: number, used: Resources): number;
}

/** The percentage of `maxPrice` left at `price`, rounded toward zero, in bigints: the definition. */
const budgetKeptExact = (maxPrice: bigint, price: bigint) => (maxPrice === 0n ? 100 : Number(((maxPrice - price) * 100n) / maxPrice));

/** The last maxPrice converted, and its number: one job's budget is read for every offer the matcher reads for it, and Number() of a bigint is a call into the runtime. */
let lastMax = -1n;
let lastMaxNumber = -1;
function maxAsNumber(maxPrice: bigint): number {
  if (maxPrice !== lastMax) {
    lastMaxNumber = Number(maxPrice);
    lastMax = maxPrice;
  }
  return lastMaxNumber;
}

/**
 * `budgetKeptExact` without bigint arithmetic where that is exact: the matcher takes it for every
 * offer it scores, and bigint multiplies and divides allocate. For an
 * affordable price (0 <= price <= maxPrice) the percentage is at most 100 and its floating-point
 * value is within 1e-12 of the true ratio, so its floor is exact unless the ratio is that close to
 * a whole number; those (and anything else) are computed in bigints. Affordability is read from
 * the prices as numbers (`Number` keeps the order of bigints, so 0 <= p < m on the numbers means
 * 0 <= price < maxPrice), not from bigint comparisons, three calls each time; numbers that come
 * out equal go the exact way.
 */
function budgetKept(job: Pick<JobOffer, "maxPrice">, offer: Pick<ResourceOffer, "price">): number {
  const m = maxAsNumber(job.maxPrice);
  const p = Number(offer.price);
  if (m > 0 && p >= 0 && p < m) {
    const r = ((m - p) * 100) / m;
    const q = Math.floor(r);
    if (r - q > 1e-9 && q + 1 - r > 1e-9) return q;
  }
  return budgetKeptExact(job.maxPrice, offer.price);
}

/** The share of the job's budget the job creator keeps: a free offer scores 100, one at maxPrice 0. */
export const cheapestPrice: ScorePlugin = {
  name: "cheapest-price",
  weight: 2,
  score: (job, offer) => budgetKept(job, offer),
  // The score only falls as the price rises.
  ceiling: (job, _caps, price) => budgetCeiling(maxAsNumber(job.maxPrice), price),
};

/**
 * At least `budgetKept` of any price the index reads for a job (0 <= price <= maxPrice) that is
 * `p` as a number or more, from the numbers alone: their percentage is within 1e-13 of the exact
 * ratio (each number within 2^-53 of its bigint, relatively), so its floor after 1e-9 of slack is
 * never below the exact floor, and above it only for a ratio just short of a whole number.
 */
function budgetCeiling(m: number, p: number): number {
  if (m === 0) return 100; // maxPrice 0: `budgetKeptExact` gives 100
  return Math.max(0, Math.floor(((m - p) * 100) / m + 1e-9));
}

function spare(job: JobOffer, offer: Resources, used: Resources): number {
  // Written out per dimension (the matcher calls this for every class a job reads and every offer
  // it scores; a loop over the keys made every read a keyed lookup): the same sum, in the same
  // order (RESOURCE_KEYS'), as a filter and reduce.
  let dims = 0;
  let free = 0;
  if (offer.cpu > 0) {
    dims++;
    free += Math.max(0, offer.cpu - used.cpu - job.cpu) / offer.cpu;
  }
  if (offer.memoryMb > 0) {
    dims++;
    free += Math.max(0, offer.memoryMb - used.memoryMb - job.memoryMb) / offer.memoryMb;
  }
  if (offer.gpu > 0) {
    dims++;
    free += Math.max(0, offer.gpu - used.gpu - job.gpu) / offer.gpu;
  }
  if (offer.vramMb > 0) {
    dims++;
    free += Math.max(0, offer.vramMb - used.vramMb - job.vramMb) / offer.vramMb;
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
  ceiling: (job, caps, _price, used) => spare(job, caps, used),
};

export const defaultScores: readonly ScorePlugin[] = [cheapestPrice, mostSpareCapacity];
