// Matching as a pure function: a snapshot of the order book in, a plan of deal proposals out.
// No I/O and no clock: `now` is an argument, so the same snapshot always gives the same plan.
// Persisting and publishing the plan is a separate step (solver.ts).
import type { Address, Hex } from "viem";
import { commonMediators, mediatorSetHash, type DealMessage, type JobOfferRecord, type ResourceOfferRecord } from "@lily/protocol";
import type { FilterPlugin, MatchContext } from "./filters.ts";
import type { ScorePlugin } from "./scores.ts";
import { NO_RESOURCES, addResources, resourcesOf, type Resources } from "./resources.ts";

export interface Snapshot {
  /** Open job offers, oldest first: earlier jobs get first pick of capacity. */
  jobs: readonly JobOfferRecord[];
  /** Active resource offers, one per provider. */
  offers: readonly ResourceOfferRecord[];
  /** Resources each provider owes its active deals. */
  used: ReadonlyMap<Address, Resources>;
  /** Job offer id -> providers excluded from it -> why. */
  excluded: Readonly<Record<Hex, Record<Address, string>>>;
}

export interface MatchConfig {
  filters: readonly FilterPlugin[];
  scores: readonly ScorePlugin[];
  /** Added to the job's timeout in the deal deadline: the time the parties have to sign. */
  signWindowSeconds: number;
}

export interface Proposal {
  jobOfferId: Hex;
  resourceOfferId: Hex;
  terms: DealMessage;
}

export interface Plan {
  proposals: Proposal[];
  /** Job offer id -> provider -> the first filter that rejected it, as `filter: reason`. */
  rejections: Record<Hex, Record<Address, string>>;
}

/** The terms of a deal between a job offer and a resource offer, proposed at `now` (unix seconds). */
export function dealTerms(job: JobOfferRecord, offer: ResourceOfferRecord, now: number, signWindowSeconds: number): DealMessage {
  return {
    jobCreator: job.offer.jobCreator,
    provider: offer.offer.provider,
    jobOffer: job.id,
    resourceOffer: offer.id,
    price: offer.offer.price,
    collateral: offer.offer.collateral,
    deadline: BigInt(now + signWindowSeconds) + job.offer.timeoutSeconds,
    policy: job.offer.policy,
    policyParam: job.offer.policyParam,
    mediationFee: job.offer.mediationFee,
    mediators: mediatorSetHash(commonMediators(job.offer.mediators, offer.offer.mediators)),
    moduleCreator: job.offer.moduleCreator,
    royaltyBps: job.offer.royaltyBps,
  };
}

export function planMatches(snapshot: Snapshot, config: MatchConfig, now: number): Plan {
  const used = new Map(snapshot.used);
  const plan: Plan = { proposals: [], rejections: {} };
  for (const job of snapshot.jobs) {
    const rejected: Record<Address, string> = {};
    let best: { offer: ResourceOfferRecord; score: number } | undefined;
    for (const offer of snapshot.offers) {
      const ctx: MatchContext = { now: BigInt(now), used: used.get(offer.offer.provider) ?? NO_RESOURCES, excluded: snapshot.excluded[job.id] ?? {} };
      const reason = firstRejection(config.filters, job, offer, ctx);
      if (reason) {
        rejected[offer.offer.provider] = reason;
        continue;
      }
      const score = config.scores.reduce((sum, s) => sum + s.weight * s.score(job.offer, offer.offer, ctx), 0);
      // Ties go to the lower offer id, so the plan never depends on the order offers were read in.
      if (!best || score > best.score || (score === best.score && offer.id < best.offer.id)) best = { offer, score };
    }
    plan.rejections[job.id] = rejected;
    if (!best) continue;
    const provider = best.offer.offer.provider;
    used.set(provider, addResources(used.get(provider) ?? NO_RESOURCES, resourcesOf(job.offer)));
    plan.proposals.push({ jobOfferId: job.id, resourceOfferId: best.offer.id, terms: dealTerms(job, best.offer, now, config.signWindowSeconds) });
  }
  return plan;
}

function firstRejection(filters: readonly FilterPlugin[], job: JobOfferRecord, offer: ResourceOfferRecord, ctx: MatchContext): string | undefined {
  for (const f of filters) {
    const reason = f.filter(job.offer, offer.offer, ctx);
    if (reason !== undefined) return `${f.name}: ${reason}`;
  }
  return undefined;
}
