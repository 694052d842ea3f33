// The indexed matcher: the same plan as `planMatches` (match.ts, the naive scan kept as the
// reference), without comparing every job with every offer.
//
// Active offers are indexed by what jobs filter on: by module (an offer sits in the bucket of each
// module it allows), then by class, the offer's capacity and what its provider owes its active
// deals, then by price (ties by id). A job reads only its module's bucket, skips every class its
// needs do not fit in free capacity and every offer above its maxPrice, and ranks the rest lazily:
// the classes' cheapest offers in a heap ordered by a ceiling of their score (ties: cheaper, then lower id, as `byRank`) (the score plugins'
// `ceiling`), each offer evaluated with the full filter chain only when popped, and an offer is
// handed to `pickGroup` once no offer left unevaluated can beat it. So a job costs about as many
// filter runs as it has close competitors, not the size of the book.
//
// Updates are incremental: `add` and `remove` an offer, `fill` a provider whose usage changed
// (its offers move class). Nothing is rebuilt per event. What the index cannot see (an offer the
// module, price or capacity keeps out) is never evaluated, so its rejection reason is not in the
// plan: `explainJob` computes every provider's reason on demand for one job (the naive scan), and
// `planIndexed` does the same for jobs that matched nothing while the book is small
// (`fullReasonsUpTo`), so small books keep their full reasons.
import type { Address, Hex } from "viem";
import type { JobOffer, ResourceOfferRecord } from "@lily/protocol";
import { moduleAllowed, priceWithinBudget, resourcesFree } from "./filters.ts";
import { pickGroup } from "./group.ts";
import { dealsPerJob } from "./locks.ts";
import {
  byRank,
  cheaperFirst,
  contextFor,
  firstRejection,
  JOB_REJECTION,
  noteRejection,
  planMatches,
  proposeGroup,
  type JobRef,
  type MatchConfig,
  type Plan,
  type Snapshot,
} from "./match.ts";
import { NO_RESOURCES, RESOURCE_KEYS, addResources, resourcesOf, type Resources } from "./resources.ts";

/** Offers of one capacity whose providers owe the same usage: one ceiling for all of them at a price. */
interface OfferClass {
  key: string;
  caps: Resources;
  used: Resources;
  /** Cheapest first, ties by offer id. */
  list: ResourceOfferRecord[];
}

const sameResources = (a: Resources, b: Resources) => RESOURCE_KEYS.every((k) => a[k] === b[k]);
const classKey = (caps: Resources, used: Resources) =>
  `${caps.cpu},${caps.memoryMb},${caps.gpu},${caps.vramMb}/${used.cpu},${used.memoryMb},${used.gpu},${used.vramMb}`;

/** Where `rec` sits in `list` (cheapest first), or where it would go. */
function position(list: readonly ResourceOfferRecord[], rec: ResourceOfferRecord): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cheaperFirst(list[mid]!, rec) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The active resource offers, indexed for matching, and what each provider owes its active deals. */
export class OfferIndex {
  /** Module -> class key -> class. */
  private readonly buckets = new Map<string, Map<string, OfferClass>>();
  private readonly byId = new Map<Hex, ResourceOfferRecord>();
  private readonly byProvider = new Map<Address, Set<Hex>>();
  private readonly owed = new Map<Address, Resources>();

  constructor(offers: Iterable<ResourceOfferRecord> = [], used: ReadonlyMap<Address, Resources> = new Map()) {
    for (const [provider, r] of used) this.owed.set(provider, r);
    for (const o of offers) this.add(o);
  }

  get size(): number {
    return this.byId.size;
  }

  has(id: Hex): boolean {
    return this.byId.has(id);
  }

  get(id: Hex): ResourceOfferRecord | undefined {
    return this.byId.get(id);
  }

  /** Every indexed offer, in the order they were added. */
  offers(): ResourceOfferRecord[] {
    return [...this.byId.values()];
  }

  /** What each provider owes its active deals, as the index ranks them (providers owing nothing absent). */
  get used(): ReadonlyMap<Address, Resources> {
    return this.owed;
  }

  /** Index an offer (again: an offer already indexed under this id is replaced). */
  add(rec: ResourceOfferRecord): void {
    if (this.byId.has(rec.id)) this.remove(rec.id);
    this.byId.set(rec.id, rec);
    const provider = rec.offer.provider;
    let ids = this.byProvider.get(provider);
    if (!ids) {
      ids = new Set();
      this.byProvider.set(provider, ids);
    }
    ids.add(rec.id);
    this.place(rec, this.owed.get(provider) ?? NO_RESOURCES);
  }

  /** Take an offer out of the index; returns whether it was in. */
  remove(id: Hex): boolean {
    const rec = this.byId.get(id);
    if (!rec) return false;
    this.byId.delete(id);
    const provider = rec.offer.provider;
    const ids = this.byProvider.get(provider)!;
    ids.delete(id);
    if (ids.size === 0) this.byProvider.delete(provider);
    this.unplace(rec, this.owed.get(provider) ?? NO_RESOURCES);
    return true;
  }

  /** The provider now owes `used` to its active deals: its offers move to the class of that usage. */
  fill(provider: Address, used: Resources): void {
    const before = this.owed.get(provider) ?? NO_RESOURCES;
    if (sameResources(before, used)) return;
    const ids = this.byProvider.get(provider);
    for (const id of ids ?? []) this.unplace(this.byId.get(id)!, before);
    if (sameResources(used, NO_RESOURCES)) this.owed.delete(provider);
    else this.owed.set(provider, resourcesOf(used));
    for (const id of ids ?? []) this.place(this.byId.get(id)!, used);
  }

  /** Take every provider's usage from `used` (the book's, read at the start of a pass): work only for providers whose usage changed. */
  syncUsed(used: ReadonlyMap<Address, Resources>): void {
    if (used === this.owed) return; // the caller is the index's own planning, already in step
    for (const provider of [...this.owed.keys()]) if (!used.has(provider)) this.fill(provider, NO_RESOURCES);
    for (const [provider, r] of used) this.fill(provider, r);
  }

  /** The classes of `module`'s bucket (read-only; for the ranking below). */
  bucket(module: string): Iterable<OfferClass> {
    return this.buckets.get(module)?.values() ?? [];
  }

  private place(rec: ResourceOfferRecord, used: Resources): void {
    const caps = resourcesOf(rec.offer);
    const key = classKey(caps, used);
    for (const module of new Set(rec.offer.modules)) {
      let classes = this.buckets.get(module);
      if (!classes) {
        classes = new Map();
        this.buckets.set(module, classes);
      }
      let c = classes.get(key);
      if (!c) {
        c = { key, caps, used: resourcesOf(used), list: [] };
        classes.set(key, c);
      }
      c.list.splice(position(c.list, rec), 0, rec);
    }
  }

  private unplace(rec: ResourceOfferRecord, used: Resources): void {
    const key = classKey(resourcesOf(rec.offer), used);
    for (const module of new Set(rec.offer.modules)) {
      const classes = this.buckets.get(module);
      const c = classes?.get(key);
      if (!classes || !c) continue;
      const at = position(c.list, rec);
      if (c.list[at]?.id === rec.id) c.list.splice(at, 1);
      if (c.list.length === 0) classes.delete(key);
      if (classes.size === 0) this.buckets.delete(module);
    }
  }
}

/** A binary heap; `before(a, b)` is true when a comes out first. */
class Heap<T> {
  readonly items: T[] = [];
  private readonly before: (a: T, b: T) => boolean;
  constructor(before: (a: T, b: T) => boolean) {
    this.before = before;
  }
  get size() {
    return this.items.length;
  }
  peek(): T | undefined {
    return this.items[0];
  }
  push(v: T): void {
    const a = this.items;
    a.push(v);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }
  pop(): T | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      this.down(0);
    }
    return top;
  }
  /** The top changed in place: restore the order. */
  fixTop(): void {
    this.down(0);
  }
  private down(i: number): void {
    const a = this.items;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < a.length && this.before(a[l]!, a[m]!)) m = l;
      if (r < a.length && this.before(a[r]!, a[m]!)) m = r;
      if (m === i) return;
      [a[i], a[m]] = [a[m]!, a[i]!];
      i = m;
    }
  }
}

/** Whether the index may stand in for the naive scan: it prunes by module, price and free capacity, so those filters must be on. */
export function indexable(config: Pick<MatchConfig, "filters">): boolean {
  return [moduleAllowed, priceWithinBudget, resourcesFree].every((f) => config.filters.includes(f));
}

interface Cursor {
  c: OfferClass;
  at: number;
  ceiling: number;
}
interface Ranked {
  offer: ResourceOfferRecord;
  score: number;
}

/**
 * The offers that pass every filter for `job`, best first (score, then lower offer id), exactly as
 * the naive scan ranks them, evaluated only as far as they are read. Rejections of the offers it
 * evaluated go to `rejected`; the offers that fit go to `fit`.
 */
function* ranked(
  index: OfferIndex,
  job: JobRef,
  config: MatchConfig,
  state: { snapshot: Pick<Snapshot, "excluded" | "escrow">; held: ReadonlyMap<Address, bigint>; now: number },
  rejected: Record<string, string>,
  fit: ResourceOfferRecord[],
): Generator<ResourceOfferRecord> {
  const j: JobOffer = job.offer;
  const ceilingOf = (c: OfferClass, o: ResourceOfferRecord) =>
    config.scores.reduce((sum, s) => sum + s.weight * (s.ceiling ? s.ceiling(j, o.offer, c.used) : 100), 0);
  // Classes by the rank their next offer would have if it scored its ceiling. Along a class the
  // ceiling only falls while price (then id) rises, so this is the rank order of the ceilings.
  const classes = new Heap<Cursor>((a, b) => byRank({ offer: a.c.list[a.at]!, score: a.ceiling }, { offer: b.c.list[b.at]!, score: b.ceiling }) < 0);
  for (const c of index.bucket(j.module)) {
    // REJECT (by the index): a class whose free capacity cannot hold the job, an offer above maxPrice
    if (RESOURCE_KEYS.some((k) => j[k] > c.caps[k] - c.used[k])) continue;
    const head = c.list[0];
    if (!head || head.offer.price > j.maxPrice) continue;
    classes.push({ c, at: 0, ceiling: ceilingOf(c, head) });
  }
  const found = new Heap<Ranked>((a, b) => byRank(a, b) < 0);
  for (;;) {
    for (let top = classes.peek(); top; top = classes.peek()) {
      const next = top.c.list[top.at]!;
      const best = found.peek();
      // Nothing left unevaluated ranks before `next` at its ceiling: the best found can go first.
      if (best && byRank(best, { offer: next, score: top.ceiling }) < 0) break;
      top.at++;
      const after = top.c.list[top.at];
      if (after && after.offer.price <= j.maxPrice) {
        top.ceiling = ceilingOf(top.c, after);
        classes.fixTop();
      } else classes.pop();
      const ctx = contextFor(job, next, state.snapshot, index.used, state.held, state.now);
      const reason = firstRejection(config.filters, job, next, ctx);
      if (reason) {
        noteRejection(rejected, next.offer.provider, reason);
        continue;
      }
      fit.push(next);
      found.push({ offer: next, score: config.scores.reduce((sum, s) => sum + s.weight * s.score(j, next.offer, ctx), 0) });
    }
    const best = found.pop();
    if (!best) return;
    yield best.offer;
  }
}

export interface IndexedPlanOptions {
  /**
   * For a job that matched nothing, scan every offer for its reasons (as the naive scan does)
   * while the book holds at most this many offers; past it, only the offers the index evaluated
   * give reasons, and the dry run (`explainJob`) gives the rest on demand. Default 1,000.
   */
  fullReasonsUpTo?: number;
  /**
   * Plan without moving the index: the plan's proposals are not filled in (so a later job of the
   * same plan may be offered capacity an earlier one took). For a look-ahead whose plan is thrown
   * away (which parties' escrow a pass needs), it saves moving offers between classes twice.
   */
  lookAhead?: boolean;
}

/**
 * The plan `planMatches` makes for `snapshot` with the offers of `index`, found through the
 * index. The index's usage is first synced to `snapshot.used` and ends holding the plan's
 * proposals too (what the book will hold once it is persisted). Rejections: see the file header.
 */
export function planIndexed(
  index: OfferIndex,
  snapshot: Omit<Snapshot, "offers">,
  config: MatchConfig,
  now: number,
  { fullReasonsUpTo = 1_000, lookAhead = false }: IndexedPlanOptions = {},
): Plan {
  index.syncUsed(snapshot.used);
  if (!indexable(config)) {
    const plan = planMatches({ ...snapshot, offers: index.offers(), used: index.used }, config, now);
    if (!lookAhead) fillProposals(index, plan, snapshot);
    return plan;
  }
  const held = new Map(snapshot.held);
  const state = { snapshot, held, now };
  const plan: Plan = { proposals: [], rejections: {} };
  for (const job of snapshot.jobs) {
    const k = dealsPerJob(job.offer);
    const rejected: Record<string, string> = {};
    const fit: ResourceOfferRecord[] = [];
    const chosen = pickGroup(job.offer, ranked(index, job, config, state, rejected, fit), k);
    if (!chosen.group && index.size <= fullReasonsUpTo) {
      for (const offer of index.offers()) {
        const reason = firstRejection(config.filters, job, offer, contextFor(job, offer, snapshot, index.used, held, now));
        if (reason) noteRejection(rejected, offer.offer.provider, reason);
      }
    }
    // A provider another of whose offers fits is not refused.
    for (const f of fit) delete rejected[f.offer.provider];
    plan.rejections[job.id] = rejected;
    if (!chosen.group) {
      // All or none: a partial replica group could never open, so it holds no capacity either.
      if (k > 1) rejected[JOB_REJECTION] = chosen.why;
      continue;
    }
    proposeGroup(plan, job, chosen.group, { snapshot, config, now, held }, (provider, resources) => {
      if (!lookAhead) useMore(index, provider, resources);
    });
  }
  return plan;
}

/**
 * Fill in the proposals of a look-ahead plan, as planning for real does as it goes. For a plan of
 * one job the two are the same plan (its group is chosen before any of it is filled in), so a
 * look-ahead of one job that lacked nothing can be kept.
 */
export function fillProposals(index: OfferIndex, plan: Plan, jobs: Pick<Snapshot, "jobs">): void {
  for (const p of plan.proposals) useMore(index, p.terms.provider, resourcesOf(jobOf(jobs, p.jobOfferId)));
}

/** A provider now also holds `resources` (one more deal's), as the index sees it. */
const useMore = (index: OfferIndex, provider: Address, resources: Resources) =>
  index.fill(provider, addResources(index.used.get(provider) ?? NO_RESOURCES, resources));

const jobOf = (snapshot: Pick<Snapshot, "jobs">, id: Hex) => snapshot.jobs.find((j) => j.id === id)!.offer;
