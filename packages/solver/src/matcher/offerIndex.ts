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

/**
 * Offers of one capacity whose providers owe about the same usage: one ceiling for all of them at
 * a price. `used` is a lower bound of what each member's provider owes (its usage rounded down to
 * a quarter of each capacity, `usageFloor`), so the class's free capacity and ceiling are upper
 * bounds for every member; each offer is still filtered and scored with its provider's true usage.
 * Exact usage made a class per distinct usage, and every job read every class of its module.
 */
interface OfferClass {
  key: string;
  caps: Resources;
  used: Resources;
  /** Cheapest first, ties by offer id. */
  list: SortedOffers;
}

/** Most offers one chunk of a `SortedOffers` holds before it splits in two. */
const CHUNK = 512;

/**
 * Offers cheapest first (ties by id), in chunks of at most `CHUNK`: an insert or removal moves at
 * most one chunk's items, not the whole list. A class of the most popular module holds a large
 * share of the book (tens of thousands of offers), and a provider that takes a deal moves its
 * offers between classes, so one flat sorted array made every match shift that much memory.
 */
export class SortedOffers {
  readonly chunks: ResourceOfferRecord[][] = [];
  private count = 0;

  get length(): number {
    return this.count;
  }

  /** The cheapest offer. */
  first(): ResourceOfferRecord | undefined {
    return this.chunks[0]?.[0];
  }

  /** The chunk `rec` sits in or would go in: the first whose last offer does not rank before it. */
  private chunkOf(rec: ResourceOfferRecord): number {
    const chunks = this.chunks;
    let lo = 0;
    let hi = chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = chunks[mid]!;
      if (cheaperFirst(c[c.length - 1]!, rec) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  insert(rec: ResourceOfferRecord): void {
    this.count++;
    if (this.chunks.length === 0) {
      this.chunks.push([rec]);
      return;
    }
    const ci = this.chunkOf(rec);
    const chunk = this.chunks[ci]!;
    chunk.splice(position(chunk, rec), 0, rec);
    if (chunk.length > CHUNK) this.chunks.splice(ci + 1, 0, chunk.splice(CHUNK >>> 1));
  }

  /** Remove `rec` (by its price and id); returns whether it was there. */
  remove(rec: ResourceOfferRecord): boolean {
    if (this.chunks.length === 0) return false;
    const ci = this.chunkOf(rec);
    const chunk = this.chunks[ci]!;
    const at = position(chunk, rec);
    if (chunk[at]?.id !== rec.id) return false;
    chunk.splice(at, 1);
    this.count--;
    if (chunk.length === 0) this.chunks.splice(ci, 1);
    return true;
  }
}

const sameResources = (a: Resources, b: Resources) => RESOURCE_KEYS.every((k) => a[k] === b[k]);

/** Usage levels per capacity dimension a class spans (see `OfferClass`). */
const USAGE_STEPS = 4;
/** `used` rounded down to the level below it in each dimension: at most `used`, so free capacity and spare computed with it only grow. */
function usageFloor(caps: Resources, used: Resources): Resources {
  const floor = (k: (typeof RESOURCE_KEYS)[number]) => {
    if (used[k] <= 0 || caps[k] <= 0) return 0;
    if (used[k] >= caps[k]) return caps[k];
    return Math.floor((Math.floor((used[k] * USAGE_STEPS) / caps[k]) * caps[k]) / USAGE_STEPS);
  };
  return { cpu: floor("cpu"), memoryMb: floor("memoryMb"), gpu: floor("gpu"), vramMb: floor("vramMb") };
}
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
  /** A provider's offers: the record itself while it has one (most do; a Set each cost more than the offer's own fields), else a list. */
  private readonly byProvider = new Map<Address, ResourceOfferRecord | ResourceOfferRecord[]>();
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
    const held = this.byProvider.get(provider);
    if (!held) this.byProvider.set(provider, rec);
    else if (Array.isArray(held)) held.push(rec);
    else this.byProvider.set(provider, [held, rec]);
    this.place(rec, this.owed.get(provider) ?? NO_RESOURCES);
  }

  /** Take an offer out of the index; returns whether it was in. */
  remove(id: Hex): boolean {
    const rec = this.byId.get(id);
    if (!rec) return false;
    this.byId.delete(id);
    const provider = rec.offer.provider;
    const held = this.byProvider.get(provider);
    const left = Array.isArray(held) ? held.filter((r) => r.id !== id) : [];
    if (left.length === 0) this.byProvider.delete(provider);
    else this.byProvider.set(provider, left.length === 1 ? left[0]! : left);
    this.unplace(rec, this.owed.get(provider) ?? NO_RESOURCES);
    return true;
  }

  /** The provider now owes `used` to its active deals: its offers move to the class of that usage. */
  fill(provider: Address, used: Resources): void {
    const before = this.owed.get(provider) ?? NO_RESOURCES;
    if (sameResources(before, used)) return;
    const held = this.byProvider.get(provider);
    const ids = held === undefined ? [] : Array.isArray(held) ? [...held] : [held];
    // An offer whose class is the same at the new usage stays where it is (usage rounds to a level).
    const moving = ids.filter((rec) => !sameResources(usageFloor(rec.offer, before), usageFloor(rec.offer, used)));
    for (const rec of moving) this.unplace(rec, before);
    if (sameResources(used, NO_RESOURCES)) this.owed.delete(provider);
    else this.owed.set(provider, resourcesOf(used));
    for (const rec of moving) this.place(rec, used);
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

  private place(rec: ResourceOfferRecord, owed: Resources): void {
    const caps = resourcesOf(rec.offer);
    const used = usageFloor(caps, owed);
    const key = classKey(caps, used);
    for (const module of new Set(rec.offer.modules)) {
      let classes = this.buckets.get(module);
      if (!classes) {
        classes = new Map();
        this.buckets.set(module, classes);
      }
      let c = classes.get(key);
      if (!c) {
        c = { key, caps, used, list: new SortedOffers() };
        classes.set(key, c);
      }
      c.list.insert(rec);
    }
  }

  private unplace(rec: ResourceOfferRecord, owed: Resources): void {
    const key = classKey(rec.offer, usageFloor(rec.offer, owed));
    for (const module of new Set(rec.offer.modules)) {
      const classes = this.buckets.get(module);
      const c = classes?.get(key);
      if (!classes || !c) continue;
      c.list.remove(rec);
      if (c.list.length === 0) classes.delete(key);
      if (classes.size === 0) this.buckets.delete(module);
    }
  }
}

/** A map read through to `base` where it holds nothing itself: a plan's escrow holds on top of the book's, without copying the book's per pass. */
class Overlay<K, V> extends Map<K, V> {
  private readonly base: ReadonlyMap<K, V>;
  constructor(base: ReadonlyMap<K, V>) {
    super();
    this.base = base;
  }
  override get(key: K): V | undefined {
    return super.has(key) ? super.get(key) : this.base.get(key);
  }
  override has(key: K): boolean {
    return super.has(key) || this.base.has(key);
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

/** A class being read, cheapest first: `next` is its offer at `list.chunks[chunk][at]`, the next to evaluate. */
interface Cursor {
  c: OfferClass;
  chunk: number;
  at: number;
  next: ResourceOfferRecord;
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
  const scores = config.scores;
  const ceilingOf = (c: OfferClass, o: ResourceOfferRecord) => {
    let sum = 0; // summed in the order of `scores`, as the scores themselves are
    for (const s of scores) sum += s.weight * (s.ceiling ? s.ceiling(j, o.offer, c.used) : 100);
    return sum;
  };
  // Classes by the rank their next offer would have if it scored its ceiling. Along a class the
  // ceiling only falls while price (then id) rises, so this is the rank order of the ceilings.
  const classes = new Heap<Cursor>((a, b) => byRank({ offer: a.next, score: a.ceiling }, { offer: b.next, score: b.ceiling }) < 0);
  for (const c of index.bucket(j.module)) {
    // REJECT (by the index): a class whose free capacity cannot hold the job, an offer above maxPrice
    const { caps, used } = c;
    if (j.cpu > caps.cpu - used.cpu || j.memoryMb > caps.memoryMb - used.memoryMb || j.gpu > caps.gpu - used.gpu || j.vramMb > caps.vramMb - used.vramMb)
      continue;
    const head = c.list.first();
    if (!head || head.offer.price > j.maxPrice) continue;
    classes.push({ c, chunk: 0, at: 0, next: head, ceiling: ceilingOf(c, head) });
  }
  const found = new Heap<Ranked>((a, b) => byRank(a, b) < 0);
  for (;;) {
    for (let top = classes.peek(); top; top = classes.peek()) {
      const next = top.next;
      const best = found.peek();
      // Nothing left unevaluated ranks before `next` at its ceiling: the best found can go first.
      if (best && byRank(best, { offer: next, score: top.ceiling }) < 0) break;
      const chunks = top.c.list.chunks;
      if (++top.at >= chunks[top.chunk]!.length) {
        top.chunk++;
        top.at = 0;
      }
      const after = chunks[top.chunk]?.[top.at];
      if (after && after.offer.price <= j.maxPrice) {
        top.next = after;
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
  const held = new Overlay(snapshot.held);
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
