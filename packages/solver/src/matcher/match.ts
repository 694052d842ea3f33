// Matching as a pure function: a snapshot of the order book in, a plan of deal proposals out.
// No I/O and no clock: `now` is an argument, and the escrow balances read from the chain come in
// with the snapshot, so the same snapshot always gives the same plan. Persisting and publishing
// the plan is a separate step (matching.ts).
//
// Every deal's terms come from `deriveDeal` in @lily/protocol, the one function both parties
// check a proposal against; the solver chooses only `openBy` (now plus the sign window) and,
// under replicate(k), the group (group.ts).
import type { Address, Hex } from "viem";
import { deriveDeal, sortedAddresses, type DealMessage, type JobOfferRecord, type ResourceOfferRecord } from "@lily/protocol";
import type { FilterPlugin, MatchContext } from "./filters.ts";
import type { ScorePlugin } from "./scores.ts";
import { NO_RESOURCES, addResources, resourcesOf, type Resources } from "./resources.ts";
import { pickGroup } from "./group.ts";
import { dealLocks, dealsPerJob } from "./locks.ts";
import { backingKey, trustBacked, type BackingKey } from "./backing.ts";

export { dealsPerJob };

export interface Snapshot {
  /** Open job offers, oldest first: earlier jobs get first pick of capacity. */
  jobs: readonly JobOfferRecord[];
  /** Active resource offers, one per provider. */
  offers: readonly ResourceOfferRecord[];
  /** Resources each provider owes its active deals. */
  used: ReadonlyMap<Address, Resources>;
  /** Job offer id -> providers excluded from it -> why. */
  excluded: Readonly<Record<Hex, Record<Address, string>>>;
  /** Each party's free escrow on chain, read before planning; a party absent here has none. */
  escrow: ReadonlyMap<BackingKey, bigint>;
  /** What each party's proposed or signed deals, not yet opened, would lock from its escrow. */
  held: ReadonlyMap<BackingKey, bigint>;
  /**
   * Whether trust deals are backed by LilyTrustDeals' escrow (the network names it): then a trust
   * job's parties are read, held and keyed by `backingKey(party, true)` in `escrow` and `held`.
   */
  trustEscrow?: boolean;
  /**
   * Job offer id -> the latest openBy of a deal already proposed for it. A new deal's openBy is
   * later, so re-proposing a pair (a replica group re-matched in the same second) never repeats
   * an earlier deal's terms, and so its id.
   */
  lastOpenBy: ReadonlyMap<Hex, bigint>;
}

export interface MatchConfig {
  filters: readonly FilterPlugin[];
  scores: readonly ScorePlugin[];
  /** A deal's openBy is `now` plus this: the time the parties have to sign and open it. */
  signWindowSeconds: number;
}

export interface Proposal {
  jobOfferId: Hex;
  resourceOfferId: Hex;
  terms: DealMessage;
  /** Under replicate(k): the group's k providers, sorted ascending. */
  group?: Address[];
}

export interface Plan {
  /** Oldest job first; a replica group's k proposals together, best first. */
  proposals: Proposal[];
  /**
   * Job offer id -> provider -> the first filter that rejected it, as `filter: reason`; plus,
   * under `JOB_REJECTION`, why a replicated job got no group although some providers fit. A map
   * by job: as an object's keys, each new job id cost V8 a string-table entry, per job planned.
   */
  rejections: Map<Hex, Record<string, string>>;
}

/** The rejections key for a reason about the job as a whole rather than one provider. */
export const JOB_REJECTION = "*";

/** Escrow holds as a plan reads them, and adds to them as it proposes (a `Map` is one). */
export interface Holds<K = BackingKey, V = bigint> {
  get(key: K): V | undefined;
  set(key: K, value: V): unknown;
}

/** A job offer as matching sees it: its id and its terms (the dry run's has no signature). */
export type JobRef = Pick<JobOfferRecord, "id" | "offer">;

/** How a rejection names the escrow of a routed trust deal (LilyDeals' keeps its plain "escrow"). */
const TRUST_ESCROW = "LilyTrustDeals";

const NOT_EXCLUDED: Readonly<Record<Address, string>> = Object.freeze({});

/**
 * The match contexts of one job's pairs, by offer and what its provider owes: what depends on the
 * job alone (the time, its exclusions, its creator's escrow) is read once. Valid while the plan
 * holds nothing more than it did when made (a job's pairs are all evaluated before any is proposed).
 */
export function contextsFor(
  job: JobRef,
  snapshot: Pick<Snapshot, "excluded" | "escrow" | "trustEscrow">,
  held: Pick<Holds, "get">,
  now: number,
  /** The job's exclusions, when the caller has them already. */
  excluded: Readonly<Record<Address, string>> = snapshot.excluded[job.id] ?? NOT_EXCLUDED,
): (offer: ResourceOfferRecord, used: Resources) => MatchContext {
  const at = BigInt(now);
  const escrow = snapshot.escrow;
  if (trustBacked(snapshot.trustEscrow, job.offer)) {
    // Only a routed trust job pays for keys: every other job reads its parties by address, as before.
    const creator = backingKey(job.offer.jobCreator, true);
    const jobCreator = { free: escrow.get(creator) ?? 0n, held: held.get(creator) ?? 0n, escrow: TRUST_ESCROW };
    return (offer, used) => {
      const provider = backingKey(offer.offer.provider, true);
      return {
        now: at,
        used,
        excluded,
        escrow: { jobCreator, provider: { free: escrow.get(provider) ?? 0n, held: held.get(provider) ?? 0n, escrow: TRUST_ESCROW } },
      };
    };
  }
  const creator = job.offer.jobCreator;
  const jobCreator = { free: escrow.get(creator) ?? 0n, held: held.get(creator) ?? 0n };
  return (offer, used) => {
    const provider = offer.offer.provider;
    return { now: at, used, excluded, escrow: { jobCreator, provider: { free: escrow.get(provider) ?? 0n, held: held.get(provider) ?? 0n } } };
  };
}

/** The match context of one pair, from the snapshot and what this plan has already taken. */
export function contextFor(
  job: JobRef,
  offer: ResourceOfferRecord,
  snapshot: Pick<Snapshot, "excluded" | "escrow" | "trustEscrow">,
  used: ReadonlyMap<Address, Resources>,
  held: Pick<Holds, "get">,
  now: number,
): MatchContext {
  return contextsFor(job, snapshot, held, now)(offer, used.get(offer.offer.provider) ?? NO_RESOURCES);
}

/** The first filter that rejects the pair, as `filter: reason`, among `filters`. */
export function firstRejection(filters: readonly FilterPlugin[], job: JobRef, offer: ResourceOfferRecord, ctx: MatchContext): string | undefined {
  for (const f of filters) {
    const reason = f.filter(job.offer, offer.offer, ctx);
    if (reason !== undefined) return `${f.name}: ${reason}`;
  }
  return undefined;
}

/**
 * Note why `provider` cannot take the job, keeping the most telling reason among its offers: a
 * provider with one offer per price is refused by all but one of them for the module alone.
 */
export function noteRejection(rejected: Record<string, string>, provider: string, reason: string): void {
  const known = rejected[provider];
  if (known === undefined || (known.startsWith("module:") && !reason.startsWith("module:"))) rejected[provider] = reason;
}

/** Ties go to the lower offer id, so a ranking never depends on the order offers were read in. */
export const byOfferId = (a: ResourceOfferRecord, b: ResourceOfferRecord) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Cheaper first, then the lower offer id. */
export const cheaperFirst = (a: ResourceOfferRecord, b: ResourceOfferRecord) =>
  a.offer.price < b.offer.price ? -1 : a.offer.price > b.offer.price ? 1 : byOfferId(a, b);

/**
 * The rank of a fitting offer: the higher score first; equal scores go to the cheaper offer, then
 * the lower offer id. (The tie on price is what lets the indexed matcher, whose lists are cheapest
 * first, rank lazily and still agree with this scan exactly.)
 */
export const byRank = (a: { offer: ResourceOfferRecord; score: number }, b: { offer: ResourceOfferRecord; score: number }) =>
  b.score - a.score || cheaperFirst(a.offer, b.offer);

export function planMatches(snapshot: Snapshot, config: MatchConfig, now: number): Plan {
  const used = new Map(snapshot.used);
  const held = new Map(snapshot.held);
  const plan: Plan = { proposals: [], rejections: new Map() };
  for (const job of snapshot.jobs) {
    const k = dealsPerJob(job.offer);
    const rejected: Record<string, string> = {};
    const fit: { offer: ResourceOfferRecord; score: number }[] = [];
    const contextOf = contextsFor(job, snapshot, held, now);
    for (const offer of snapshot.offers) {
      const ctx = contextOf(offer, used.get(offer.offer.provider) ?? NO_RESOURCES);
      const reason = firstRejection(config.filters, job, offer, ctx);
      if (reason) {
        noteRejection(rejected, offer.offer.provider, reason);
        continue;
      }
      fit.push({ offer, score: config.scores.reduce((sum, s) => sum + s.weight * s.score(job.offer, offer.offer, ctx), 0) });
    }
    // A provider another of whose offers fits is not refused.
    for (const f of fit) delete rejected[f.offer.offer.provider];
    fit.sort(byRank);
    const chosen = pickGroup(
      job.offer,
      fit.map((f) => f.offer),
      k,
    );
    plan.rejections.set(job.id, rejected);
    if (!chosen.group) {
      // All or none: a partial replica group could never open, so it holds no capacity either.
      if (k > 1) rejected[JOB_REJECTION] = chosen.why;
      continue;
    }
    proposeGroup(plan, job, chosen.group, { snapshot, config, now, held }, (provider, resources) =>
      used.set(provider, addResources(used.get(provider) ?? NO_RESOURCES, resources)),
    );
  }
  return plan;
}

/**
 * The deals for a job's chosen group, added to `plan`, with what each will hold: the provider's
 * capacity (handed to `use`, which the caller keeps as it keeps it) and both parties' escrow locks
 * (in `held`). The naive scan and the offer index both propose through it, so their terms are the
 * same by construction.
 */
export function proposeGroup(
  plan: Plan,
  job: JobOfferRecord,
  chosen: readonly ResourceOfferRecord[],
  at: { snapshot: Pick<Snapshot, "lastOpenBy" | "trustEscrow">; config: Pick<MatchConfig, "signWindowSeconds">; now: number; held: Holds },
  use: (provider: Address, resources: Resources) => void,
): void {
  const { held } = at;
  const last = at.snapshot.lastOpenBy.get(job.id);
  const soonest = BigInt(at.now + at.config.signWindowSeconds);
  const openBy = last !== undefined && last >= soonest ? last + 1n : soonest;
  const group = chosen.length > 1 ? sortedAddresses(chosen.map((o) => o.offer.provider)) : undefined;
  const trust = trustBacked(at.snapshot.trustEscrow, job.offer);
  for (const offer of chosen) {
    // The records are the offers' refs already (an id and an offer): no copy of each per deal.
    const terms = deriveDeal(job, offer, { openBy, group });
    const { provider, jobCreator } = terms;
    const locks = dealLocks(terms);
    use(provider, resourcesOf(job.offer));
    const p = backingKey(provider, trust);
    const jc = backingKey(jobCreator, trust);
    held.set(p, (held.get(p) ?? 0n) + locks.provider);
    held.set(jc, (held.get(jc) ?? 0n) + locks.jobCreator);
    plan.proposals.push(group ? { jobOfferId: job.id, resourceOfferId: offer.id, terms, group } : { jobOfferId: job.id, resourceOfferId: offer.id, terms });
  }
}
