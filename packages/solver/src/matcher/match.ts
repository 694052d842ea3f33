// Matching as a pure function: a snapshot of the order book in, a plan of deal proposals out.
// No I/O and no clock: `now` is an argument, so the same snapshot always gives the same plan.
// Persisting and publishing the plan is a separate step (solver.ts).
//
// A job offer gets one deal, or under replicate(k) a replica group of k: the k best offers with
// distinct providers, all or none. The contract settles a group only if its deals share the job
// offer, k and the mediation terms, so the k deals must also carry one mediator set: the group
// is the first k providers, in rank order, that the job shares the same mediators with.
import type { Address, Hex } from "viem";
import { policyById } from "@lily/verification";
import { commonMediators, mediatorSetHash, type DealMessage, type JobOffer, type JobOfferRecord, type ResourceOfferRecord } from "@lily/protocol";
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
  /**
   * Job offer id -> the latest deadline of a deal already proposed for it. A new deal's deadline
   * is later, so re-proposing a pair (a replica group re-matched in the same second) never
   * repeats an earlier deal's terms, and so its id.
   */
  lastDeadline: ReadonlyMap<Hex, bigint>;
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
  /** Oldest job first; a replica group's k proposals together, best first. */
  proposals: Proposal[];
  /**
   * Job offer id -> provider -> the first filter that rejected it, as `filter: reason`; plus,
   * under `JOB_REJECTION`, why a replicated job got no group although some providers fit.
   */
  rejections: Record<Hex, Record<string, string>>;
}

/** The rejections key for a reason about the job as a whole rather than one provider. */
export const JOB_REJECTION = "*";

/** How many deals, each with a distinct provider, a job offer needs: k under replicate(k), else 1. */
export function dealsPerJob(job: JobOffer): number {
  return Math.max(1, policyById(job.policy)?.dealsPerJob(job.policyParam) ?? 1);
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
    const k = dealsPerJob(job.offer);
    const rejected: Record<string, string> = {};
    const fit: { offer: ResourceOfferRecord; score: number }[] = [];
    for (const offer of snapshot.offers) {
      const ctx: MatchContext = { now: BigInt(now), used: used.get(offer.offer.provider) ?? NO_RESOURCES, excluded: snapshot.excluded[job.id] ?? {} };
      const reason = firstRejection(config.filters, job, offer, ctx);
      if (reason) {
        rejected[offer.offer.provider] = reason;
        continue;
      }
      fit.push({ offer, score: config.scores.reduce((sum, s) => sum + s.weight * s.score(job.offer, offer.offer, ctx), 0) });
    }
    // Ties go to the lower offer id, so the plan never depends on the order offers were read in.
    fit.sort((a, b) => b.score - a.score || (a.offer.id < b.offer.id ? -1 : a.offer.id > b.offer.id ? 1 : 0));
    const chosen = pickGroup(job, fit.map((f) => f.offer), k);
    plan.rejections[job.id] = rejected;
    if (!chosen.group) {
      // All or none: a partial replica group could never settle, so it holds no capacity either.
      if (k > 1) rejected[JOB_REJECTION] = chosen.why;
      continue;
    }
    const last = snapshot.lastDeadline.get(job.id);
    for (const offer of chosen.group) {
      const provider = offer.offer.provider;
      used.set(provider, addResources(used.get(provider) ?? NO_RESOURCES, resourcesOf(job.offer)));
      const terms = dealTerms(job, offer, now, config.signWindowSeconds);
      if (last !== undefined && terms.deadline <= last) terms.deadline = last + 1n;
      plan.proposals.push({ jobOfferId: job.id, resourceOfferId: offer.id, terms });
    }
  }
  return plan;
}

/**
 * The first k offers in rank order with distinct providers and the same mediator set for this
 * job (always the best one when k = 1); or why there are none.
 */
function pickGroup(job: JobOfferRecord, ranked: readonly ResourceOfferRecord[], k: number): { group: ResourceOfferRecord[]; why?: undefined } | { group?: undefined; why: string } {
  const bySet = new Map<Hex, ResourceOfferRecord[]>();
  const providers = new Set<string>();
  for (const offer of ranked) {
    const provider = offer.offer.provider.toLowerCase();
    if (providers.has(provider)) continue;
    providers.add(provider);
    const set = mediatorSetHash(commonMediators(job.offer.mediators, offer.offer.mediators));
    const group = bySet.get(set) ?? [];
    bySet.set(set, group);
    group.push(offer);
    if (group.length === k) return { group };
  }
  const policy = policyById(job.offer.policy)?.name ?? `policy ${job.offer.policy}`;
  if (providers.size < k) return { why: `${policy}: needs ${k} distinct providers, ${providers.size} fit` };
  const most = Math.max(0, ...[...bySet.values()].map((g) => g.length));
  return { why: `${policy}: needs ${k} distinct providers with the same mediators, ${providers.size} fit but at most ${most} share a mediator set` };
}

function firstRejection(filters: readonly FilterPlugin[], job: JobOfferRecord, offer: ResourceOfferRecord, ctx: MatchContext): string | undefined {
  for (const f of filters) {
    const reason = f.filter(job.offer, offer.offer, ctx);
    if (reason !== undefined) return `${f.name}: ${reason}`;
  }
  return undefined;
}
