// The indexed matcher: the same plan as `planMatches` (match.ts, the naive scan kept as the
// reference), without comparing every job with every offer.
//
// Active offers are indexed by what jobs filter on: by module (an offer sits in the bucket of each
// module it allows), then by class, the offer's capacity and what its provider owes its active
// deals, then by price (ties by id). A job reads only its module's bucket, skips every class its
// needs do not fit in free capacity and every offer above its maxPrice, and ranks the rest lazily:
// the classes' cheapest offers in a heap ordered by a ceiling of their score (ties: cheaper, then lower id, as `byRank`) (the score plugins'
// `ceiling`), each offer evaluated with the filter chain only when popped (less the module's and
// the price's filters, which the index has already applied), and an offer is handed to
// `pickGroup` once no offer left unevaluated can beat it. So a job costs about as many filter
// runs as it has close competitors, not the size of the book.
//
// The hot paths are memory-bound (a match moves its provider's offer in every module's bucket, a
// job reads every class of its module), so the index compares numbers kept beside the offers
// (price as a number, the id as a bigint) and reaches the records only when those cannot decide.
//
// Updates are incremental: `add` and `remove` an offer, `fill` a provider whose usage changed
// (its offers move class). Nothing is rebuilt per event. What the index cannot see (an offer the
// module, price or capacity keeps out) is never evaluated, so its rejection reason is not in the
// plan: `explainJob` computes every provider's reason on demand for one job (the naive scan), and
// `planIndexed` does the same for jobs that matched nothing while the book is small
// (`fullReasonsUpTo`), so small books keep their full reasons.
import type { Address, Hex } from "viem";
import type { JobOffer, ResourceOfferRecord } from "@lily/protocol";
import { moduleAllowed, notExcluded, priceWithinBudget, resourcesFree } from "./filters.ts";
import { pickGroup } from "./group.ts";
import { dealsPerJob } from "./locks.ts";
import {
  byOfferId,
  cheaperFirst,
  contextFor,
  contextsFor,
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
  key: number;
  module: string;
  /** Where it sits in its bucket's `all`. */
  slot: number;
  caps: Resources;
  used: Resources;
  /** `caps` less `used`, on the class itself: the ranking checks every class of a bucket against it. */
  freeCpu: number;
  freeMemoryMb: number;
  freeGpu: number;
  freeVramMb: number;
  /** Cheapest first, ties by offer id. */
  list: SortedOffers;
}

/**
 * An indexed offer. `p` is its price as a number: ordered as the price is wherever they differ
 * (Number() of a bigint only rounds), so most comparisons need no bigint; a tie falls back to the
 * exact price, then the id (`n`, or the text). It is filed, under each of its modules, in the
 * class of its capacity and its provider's usage (`classKey`).
 */
interface Entry {
  readonly rec: ResourceOfferRecord;
  readonly owner: Owner;
  readonly p: number;
  /** The id as a number where that orders it as its text (`idNumber`): a tie on price compares these, not 66-character strings. */
  readonly n: bigint | undefined;
  readonly caps: Resources;
  /** Interned capacity: the class key's first part. */
  readonly capsId: number;
  /** The offer's modules without repeats (its own array when it has none). */
  readonly modules: readonly string[];
}

/** A provider as the index holds it: what it owes (as `OfferIndex.used` has it) and its offers (the entry itself while it has one, as most do). */
interface Owner {
  owed: Resources;
  offers: Entry | Entry[];
}

/** A module's classes, by key and in an array (what a job reads, every class of its module, is a plain loop). */
interface Bucket {
  byKey: Map<number, OfferClass>;
  all: OfferClass[];
}

/** The exact order of two entries whose `p` is equal: their prices are too while `p` is a safe integer, so only the ids decide. */
function tie(a: Entry, b: Entry): number {
  if (a === b) return 0;
  if (a.p > Number.MAX_SAFE_INTEGER || a.p < -Number.MAX_SAFE_INTEGER) return cheaperFirst(a.rec, b.rec);
  if (a.n !== undefined && b.n !== undefined) return a.n < b.n ? -1 : a.n > b.n ? 1 : 0;
  return byOfferId(a.rec, b.rec);
}

/** An id as a number when that orders it as its text does ("0x" and 64 lowercase hex digits, as hashRecord writes them). */
const idNumber = (id: string): bigint | undefined => (ID.test(id) ? BigInt(id) : undefined);
const ID = /^0x[0-9a-f]{64}$/;

/** Most offers one chunk of a `SortedOffers` holds before it splits in two. */
const CHUNK = 256;

/**
 * A run of a class's offers, cheapest first, with each one's `p` and id beside it in arrays of
 * their own: a search reads the numbers (one block of memory) and, on a price tie, the ids, never
 * the offer records. Reading prices and ids through the records cost cache misses at every step;
 * a match moves one offer in every module's bucket it is in, and each move searches two lists
 * (and many offers share a price: a tie is common, not rare).
 */
interface Chunk {
  items: Entry[];
  keys: number[];
  /** Each offer's `n`. */
  ids: (bigint | undefined)[];
}

/** Whether the offer at `i` of `chunk` ranks before `e` (cheaper, then the lower id). */
function before(chunk: Chunk, i: number, e: Entry): boolean {
  const k = chunk.keys[i]!;
  if (k !== e.p) return k < e.p;
  // Equal `p` are equal prices while `p` is a safe integer, so only the ids decide.
  if (k <= Number.MAX_SAFE_INTEGER && k >= -Number.MAX_SAFE_INTEGER) {
    const n = chunk.ids[i];
    return n !== undefined && e.n !== undefined ? n < e.n : chunk.items[i]!.rec.id < e.rec.id;
  }
  return cheaperFirst(chunk.items[i]!.rec, e.rec) < 0;
}

/**
 * Offers cheapest first (ties by id), in chunks of at most `CHUNK`: an insert or removal moves at
 * most one chunk's items, not the whole list. A class of the most popular module holds a large
 * share of the book (tens of thousands of offers), and a provider that takes a deal moves its
 * offers between classes, so one flat sorted array made every match shift that much memory.
 */
class SortedOffers {
  readonly chunks: Chunk[] = [];
  /** Each chunk's last `p`, in one array: finding the chunk reads these, not every chunk's own arrays. */
  private readonly lasts: number[] = [];
  private count = 0;
  /** The cheapest offer's `p` (Infinity when empty): the ranking reads it for every class. */
  headP = Number.POSITIVE_INFINITY;

  get length(): number {
    return this.count;
  }

  /** The cheapest offer. */
  first(): Entry | undefined {
    return this.chunks[0]?.items[0];
  }

  /** The chunk `e` sits in or would go in: the first whose last offer does not rank before it. */
  private chunkOf(e: Entry): number {
    const chunks = this.chunks;
    let lo = 0;
    let hi = chunks.length - 1;
    const lasts = this.lasts;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const k = lasts[mid]!;
      if (k < e.p) lo = mid + 1;
      else if (k > e.p) hi = mid;
      else {
        const c = chunks[mid]!;
        if (before(c, c.keys.length - 1, e)) lo = mid + 1;
        else hi = mid;
      }
    }
    return lo;
  }

  insert(e: Entry): void {
    this.count++;
    if (this.chunks.length === 0) {
      this.chunks.push({ items: [e], keys: [e.p], ids: [e.n] });
      this.lasts.push(e.p);
      this.headP = e.p;
      return;
    }
    const ci = this.chunkOf(e);
    const chunk = this.chunks[ci]!;
    const { items, keys, ids } = chunk;
    // Shifted by hand: splice allocates and takes V8's generic path, and a move does two of these.
    const at = position(chunk, e);
    for (let k = items.length; k > at; k--) {
      items[k] = items[k - 1]!;
      keys[k] = keys[k - 1]!;
      ids[k] = ids[k - 1]!;
    }
    items[at] = e;
    keys[at] = e.p;
    ids[at] = e.n;
    if (items.length > CHUNK) {
      const half = CHUNK >>> 1;
      const rest = { items: items.splice(half), keys: keys.splice(half), ids: ids.splice(half) };
      this.chunks.splice(ci + 1, 0, rest);
      this.lasts.splice(ci, 1, keys[keys.length - 1]!, rest.keys[rest.keys.length - 1]!);
    } else this.lasts[ci] = keys[keys.length - 1]!;
    this.headP = this.chunks[0]!.keys[0]!;
  }

  /** Remove `e` (by its price and id); returns whether it was there. */
  remove(e: Entry): boolean {
    // Found by identity among the offers of its `p`, not by comparing ids: those are a cache miss
    // each, and the class a matched offer leaves is the crowded one (many offers share a price).
    const p = e.p;
    const { chunks, lasts } = this;
    let ci = lowerBound(lasts, p);
    let at = -1;
    for (; ci < chunks.length; ci++) {
      const { items, keys } = chunks[ci]!;
      for (let k = lowerBound(keys, p); k < keys.length && keys[k] === p; k++)
        if (items[k] === e) {
          at = k;
          break;
        }
      if (at >= 0 || lasts[ci] !== p) break; // found, or the run of its `p` ends in this chunk
    }
    if (at < 0) return false;
    const { items, keys, ids } = chunks[ci]!;
    for (let k = at + 1; k < items.length; k++) {
      items[k - 1] = items[k]!;
      keys[k - 1] = keys[k]!;
      ids[k - 1] = ids[k]!;
    }
    items.pop();
    keys.pop();
    ids.pop();
    this.count--;
    if (items.length === 0) {
      this.chunks.splice(ci, 1);
      this.lasts.splice(ci, 1);
    } else this.lasts[ci] = keys[keys.length - 1]!;
    this.headP = this.chunks.length > 0 ? this.chunks[0]!.keys[0]! : Number.POSITIVE_INFINITY;
    return true;
  }
}

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
/** The level (0..USAGE_STEPS) `usageFloor` rounds one dimension to. */
function level(cap: number, used: number): number {
  if (used <= 0 || cap <= 0) return 0;
  if (used >= cap) return USAGE_STEPS;
  return Math.floor((used * USAGE_STEPS) / cap);
}
const LEVELS = USAGE_STEPS + 1;
/** A class's key among its module's: the capacity, then the usage level of each dimension. */
const classKey = (capsId: number, caps: Resources, used: Resources) =>
  capsId * LEVELS ** 4 +
  level(caps.cpu, used.cpu) +
  LEVELS * (level(caps.memoryMb, used.memoryMb) + LEVELS * (level(caps.gpu, used.gpu) + LEVELS * level(caps.vramMb, used.vramMb)));

/** The first index of `sorted` (ascending) whose value is not below `v`. */
function lowerBound(sorted: readonly number[], v: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Where `e` sits in `chunk` (cheapest first), or where it would go. */
function position(chunk: Chunk, e: Entry): number {
  let lo = 0;
  let hi = chunk.keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (before(chunk, mid, e)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const sameResources = (a: Resources, b: Resources) => RESOURCE_KEYS.every((k) => a[k] === b[k]);

/** The active resource offers, indexed for matching, and what each provider owes its active deals. */
export class OfferIndex {
  /** Module -> class key -> class. */
  private readonly buckets = new Map<string, Bucket>();
  private readonly byId = new Map<Hex, Entry>();
  /** The providers with offers indexed. */
  private readonly byProvider = new Map<Address, Owner>();
  private readonly owed = new Map<Address, Resources>();
  /** Capacity ("cpu,memoryMb,gpu,vramMb") -> its id in class keys; and by id, one object each for the offers of that capacity. */
  private readonly capsIds = new Map<string, number>();
  private readonly capsById: Resources[] = [];

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
    return this.byId.get(id)?.rec;
  }

  /** Every indexed offer, in the order they were added. */
  offers(): ResourceOfferRecord[] {
    return Array.from(this.byId.values(), (e) => e.rec);
  }

  /** What each provider owes its active deals, as the index ranks them (providers owing nothing absent). */
  get used(): ReadonlyMap<Address, Resources> {
    return this.owed;
  }

  /** Index an offer (again: an offer already indexed under this id is replaced). */
  add(rec: ResourceOfferRecord): void {
    if (this.byId.has(rec.id)) this.remove(rec.id);
    const o = rec.offer;
    const capsKey = `${o.cpu},${o.memoryMb},${o.gpu},${o.vramMb}`;
    let capsId = this.capsIds.get(capsKey);
    if (capsId === undefined) {
      capsId = this.capsById.push(resourcesOf(o)) - 1;
      this.capsIds.set(capsKey, capsId);
    }
    const caps = this.capsById[capsId]!;
    const all = rec.offer.modules;
    const modules = new Set(all).size === all.length ? all : [...new Set(all)];
    const provider = rec.offer.provider;
    let owner = this.byProvider.get(provider);
    const e: Entry = {
      rec,
      owner: owner ?? { owed: this.owed.get(provider) ?? NO_RESOURCES, offers: [] },
      p: Number(rec.offer.price),
      n: idNumber(rec.id),
      caps,
      capsId,
      modules,
    };
    if (!owner) {
      owner = e.owner;
      owner.offers = e;
      this.byProvider.set(provider, owner);
    } else if (Array.isArray(owner.offers)) owner.offers.push(e);
    else owner.offers = [owner.offers, e];
    this.byId.set(rec.id, e);
    for (const module of modules) this.file(e, module, owner.owed);
  }

  /** Take an offer out of the index; returns whether it was in. */
  remove(id: Hex): boolean {
    const e = this.byId.get(id);
    if (!e) return false;
    this.byId.delete(id);
    const owner = e.owner;
    const left = Array.isArray(owner.offers) ? owner.offers.filter((r) => r !== e) : [];
    if (left.length === 0) this.byProvider.delete(e.rec.offer.provider);
    else owner.offers = left.length === 1 ? left[0]! : left;
    for (const module of e.modules) this.unfile(e, module, e.owner.owed);
    return true;
  }

  /**
   * The provider now owes `used` to its active deals: its offers move to the class of that usage,
   * in each module's bucket, where that class differs (usage rounds to a level).
   */
  fill(provider: Address, used: Resources): void {
    const owner = this.byProvider.get(provider);
    const before = owner ? owner.owed : (this.owed.get(provider) ?? NO_RESOURCES);
    if (sameResources(before, used)) return;
    this.owe(provider, owner, used);
  }

  /** The provider now also owes `more` (one more deal's): `fill` with its usage plus `more`, with one lookup of the provider. */
  useMore(provider: Address, more: Resources): void {
    const owner = this.byProvider.get(provider);
    const before = owner ? owner.owed : (this.owed.get(provider) ?? NO_RESOURCES);
    if (more.cpu === 0 && more.memoryMb === 0 && more.gpu === 0 && more.vramMb === 0) return;
    this.owe(provider, owner, addResources(before, more));
  }

  private owe(provider: Address, owner: Owner | undefined, used: Resources): void {
    const now = sameResources(used, NO_RESOURCES) ? NO_RESOURCES : resourcesOf(used);
    if (now === NO_RESOURCES) this.owed.delete(provider);
    else this.owed.set(provider, now);
    if (owner === undefined) return;
    const before = owner.owed;
    owner.owed = now;
    for (const e of Array.isArray(owner.offers) ? owner.offers : [owner.offers]) {
      // An offer whose class is the same at the new usage stays where it is (usage rounds to a level).
      if (classKey(e.capsId, e.caps, before) === classKey(e.capsId, e.caps, now)) continue;
      for (const module of e.modules) {
        this.unfile(e, module, before);
        this.file(e, module, now);
      }
    }
  }

  /** Take every provider's usage from `used` (the book's, read at the start of a pass): work only for providers whose usage changed. */
  syncUsed(used: ReadonlyMap<Address, Resources>): void {
    if (used === this.owed) return; // the caller is the index's own planning, already in step
    for (const provider of [...this.owed.keys()]) if (!used.has(provider)) this.fill(provider, NO_RESOURCES);
    for (const [provider, r] of used) this.fill(provider, r);
  }

  /** The classes of `module`'s bucket (read-only; for the ranking below). */
  bucket(module: string): readonly OfferClass[] {
    return this.buckets.get(module)?.all ?? [];
  }

  private file(e: Entry, module: string, owed: Resources): void {
    const key = classKey(e.capsId, e.caps, owed);
    let bucket = this.buckets.get(module);
    if (!bucket) {
      bucket = { byKey: new Map(), all: [] };
      this.buckets.set(module, bucket);
    }
    let c = bucket.byKey.get(key);
    if (!c) {
      const caps = e.caps;
      const used = usageFloor(caps, owed);
      c = {
        key,
        module,
        slot: bucket.all.length,
        caps,
        used,
        freeCpu: caps.cpu - used.cpu,
        freeMemoryMb: caps.memoryMb - used.memoryMb,
        freeGpu: caps.gpu - used.gpu,
        freeVramMb: caps.vramMb - used.vramMb,
        list: new SortedOffers(),
      };
      bucket.byKey.set(key, c);
      bucket.all.push(c);
    }
    c.list.insert(e);
  }

  /** Take `e` out of `module`'s class for its provider owing `owed` (where `file` put it). */
  private unfile(e: Entry, module: string, owed: Resources): void {
    const bucket = this.buckets.get(module);
    const c = bucket?.byKey.get(classKey(e.capsId, e.caps, owed));
    if (!bucket || !c) return;
    c.list.remove(e);
    if (c.list.length > 0) return;
    bucket.byKey.delete(c.key);
    const last = bucket.all.pop()!;
    if (last !== c) {
      bucket.all[c.slot] = last;
      last.slot = c.slot;
    }
    if (bucket.all.length === 0) this.buckets.delete(c.module);
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
  next: Entry;
  ceiling: number;
}
interface Ranked {
  e: Entry;
  score: number;
}

/** `byRank` (the higher score first, then cheaper, then the lower id), on entries. */
const ranksBefore = (aScore: number, a: Entry, bScore: number, b: Entry) =>
  aScore > bScore || (aScore === bScore && (a.p < b.p || (a.p === b.p && tie(a, b) < 0)));

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
  // An offer read here is in the job's module's bucket and within its budget: of the filters, the
  // module's and the price's pass it by construction, so only the others are run (same first reason).
  // Likewise the exclusions' filter, for a job that excludes nobody (an address is no key of an empty object).
  const excluded = state.snapshot.excluded[job.id];
  const excludesNobody = excluded === undefined || Object.keys(excluded).length === 0;
  const filters = config.filters.filter((f) => f !== moduleAllowed && f !== priceWithinBudget && !(f === notExcluded && excludesNobody));
  const contextOf = contextsFor(job, state.snapshot, state.held, state.now);
  const maxPrice = j.maxPrice;
  const maxP = Number(maxPrice);
  /** `price <= maxPrice`, mostly without a bigint (see `Entry.p`). */
  const affordable = (e: Entry) => e.p < maxP || (e.p === maxP && e.rec.offer.price <= maxPrice);
  const ceilingOf = (c: OfferClass, e: Entry) => {
    let sum = 0; // summed in the order of `scores`, as the scores themselves are
    for (const s of scores) sum += s.weight * (s.ceiling ? s.ceiling(j, e.rec.offer, c.used) : 100);
    return sum;
  };
  // Classes by the rank their next offer would have if it scored its ceiling. Along a class the
  // ceiling only falls while price (then id) rises, so this is the rank order of the ceilings.
  const classes = new Heap<Cursor>((a, b) => ranksBefore(a.ceiling, a.next, b.ceiling, b.next));
  const bucket = index.bucket(j.module);
  for (let b = 0; b < bucket.length; b++) {
    const c = bucket[b]!;
    // REJECT (by the index): a class whose free capacity cannot hold the job, an offer above maxPrice
    if (j.cpu > c.freeCpu || j.memoryMb > c.freeMemoryMb || j.gpu > c.freeGpu || j.vramMb > c.freeVramMb) continue;
    const list = c.list;
    if (list.length === 0 || list.headP > maxP) continue;
    const head = list.first()!;
    if (!affordable(head)) continue;
    classes.push({ c, chunk: 0, at: 0, next: head, ceiling: ceilingOf(c, head) });
  }
  const found = new Heap<Ranked>((a, b) => ranksBefore(a.score, a.e, b.score, b.e));
  for (;;) {
    for (let top = classes.peek(); top; top = classes.peek()) {
      const next = top.next;
      const c = top.c;
      const best = found.peek();
      // Nothing left unevaluated ranks before `next` at its ceiling: the best found can go first.
      if (best && ranksBefore(best.score, best.e, top.ceiling, next)) break;
      const chunks = c.list.chunks;
      if (++top.at >= chunks[top.chunk]!.items.length) {
        top.chunk++;
        top.at = 0;
      }
      const after = chunks[top.chunk]?.items[top.at];
      if (after && affordable(after)) {
        top.next = after;
        top.ceiling = ceilingOf(c, after);
        classes.fixTop();
      } else classes.pop();
      const rec = next.rec;
      const ctx = contextOf(rec, next.owner.owed);
      const reason = firstRejection(filters, job, rec, ctx);
      if (reason) {
        noteRejection(rejected, rec.offer.provider, reason);
        continue;
      }
      fit.push(rec);
      let score = 0;
      for (const s of scores) score += s.weight * s.score(j, rec.offer, ctx);
      found.push({ e: next, score });
    }
    const best = found.pop();
    if (!best) return;
    yield best.e.rec;
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
      if (!lookAhead) index.useMore(provider, resources);
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
  for (const p of plan.proposals) index.useMore(p.terms.provider, resourcesOf(jobOf(jobs, p.jobOfferId)));
}

const jobOf = (snapshot: Pick<Snapshot, "jobs">, id: Hex) => snapshot.jobs.find((j) => j.id === id)!.offer;
