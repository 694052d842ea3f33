// The dry run as a pure function: what matching would do with one job offer now, from the same
// snapshot and filters as `planMatches`, without proposing anything. For each provider, the
// first filter that rejects the job; the providers that would take it, cheapest first; whether
// waiting alone could get it matched (every lasting filter passes for enough providers); and the
// least price among offers that only the price keeps out.
import type { Address, Hex } from "viem";
import type { ResourceOfferRecord } from "@lily/protocol";
import type { FilterPlugin, MatchContext } from "./filters.ts";
import { priceWithinBudget } from "./filters.ts";
import { pickGroup } from "./group.ts";
import { dealsPerJob } from "./locks.ts";
import { JOB_REJECTION, byOfferId, contextFor, firstRejection, noteRejection, type JobRef, type MatchConfig, type Snapshot } from "./match.ts";

export interface Candidate {
  provider: Address;
  resourceOffer: Hex;
  price: bigint;
  collateral: bigint;
}

export interface Explanation {
  /** Provider -> its first rejection as `filter: reason`; `*` for the job as a whole. */
  rejections: Record<string, string>;
  /** Providers that would take the job now, cheapest first. */
  candidates: Candidate[];
  /** False when no wait can match the job: too few providers pass every lasting filter. */
  matchable: boolean;
  /** The least price among offers that pass every filter but the price. */
  clearingPrice?: bigint;
}

/** An offer as the dry run lists it among the providers that would take a job. */
export const candidateOf = (o: ResourceOfferRecord): Candidate => ({
  provider: o.offer.provider,
  resourceOffer: o.id,
  price: o.offer.price,
  collateral: o.offer.collateral,
});

const passes = (filters: readonly FilterPlugin[], job: JobRef, offer: ResourceOfferRecord, ctx: MatchContext) =>
  firstRejection(filters, job, offer, ctx) === undefined;

export function explainJob(job: JobRef, snapshot: Snapshot, config: MatchConfig, now: number): Explanation {
  const k = dealsPerJob(job.offer);
  const lasting = config.filters.filter((f) => !f.transient);
  const allButPrice = config.filters.filter((f) => f.name !== priceWithinBudget.name);
  const rejections: Record<string, string> = {};
  const fit: ResourceOfferRecord[] = [];
  const waitable: ResourceOfferRecord[] = [];
  let clearingPrice: bigint | undefined;
  for (const offer of snapshot.offers) {
    const ctx = contextFor(job, offer, snapshot, snapshot.used, snapshot.held, now);
    const reason = firstRejection(config.filters, job, offer, ctx);
    if (reason) noteRejection(rejections, offer.offer.provider, reason);
    else fit.push(offer);
    if (!reason || passes(lasting, job, offer, ctx)) waitable.push(offer);
    if (passes(allButPrice, job, offer, ctx) && (clearingPrice === undefined || offer.offer.price < clearingPrice)) clearingPrice = offer.offer.price;
  }
  const cheapestFirst = (a: ResourceOfferRecord, b: ResourceOfferRecord) =>
    a.offer.price < b.offer.price ? -1 : a.offer.price > b.offer.price ? 1 : byOfferId(a, b);
  for (const f of fit) delete rejections[f.offer.provider];
  fit.sort(cheapestFirst);
  waitable.sort(cheapestFirst);
  const group = pickGroup(job.offer, fit, k);
  if (k > 1 && !group.group) rejections[JOB_REJECTION] = group.why;
  return {
    rejections,
    candidates: fit.map(candidateOf),
    matchable: pickGroup(job.offer, waitable, k).group !== undefined,
    ...(clearingPrice !== undefined && { clearingPrice }),
  };
}
