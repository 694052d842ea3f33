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
// job reads every class of its module), so the index compares keys kept beside the offers (the
// price as a number, in each chunk) and reaches the records only when those cannot decide.
// Memory counts as much: an offer sits in ~6.5 buckets, so what a slot holds is multiplied by that
// (8 bytes of key, outside the heap, and 4 of pointer), and the index keeps no object of its own per offer (an entry
// with exact numeric keys cost ~30 MiB of heap with 100k offers): a slot points at the record.
//
// Updates are incremental: `add` and `remove` an offer, `fill` a provider whose usage changed
// (its offers move class). Nothing is rebuilt per event. What the index cannot see (an offer the
// module, price or capacity keeps out) is never evaluated, so its rejection reason is not in the
// plan: `explainJob` computes every provider's reason on demand for one job (the naive scan), and
// `planIndexed` does the same for jobs that matched nothing while the book is small
// (`fullReasonsUpTo`), so small books keep their full reasons.
import type { Address, Hex } from "viem";
import type { JobOffer, ResourceOfferRecord } from "@lily/protocol";
import { moduleAllowed, notExcluded, priceWithinBudget, resourcesFree, type FilterPlugin } from "./filters.ts";
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

/** A module's classes, by key and in an array (what a job reads, every class of its module, is a plain loop). */
interface Bucket {
  byKey: Map<number, OfferClass>;
  all: OfferClass[];
}

type Rec = ResourceOfferRecord;

/** Most offers one chunk of a `SortedOffers` holds before it splits in two. */
const CHUNK = 256;

/**
 * A run of a class's offers, cheapest first, with each one's price as a number (`Number(price)`:
 * it only rounds, so keys that differ decide) beside it in a typed array of its own: a search
 * reads the keys (one block of memory) and only on equal keys the two records (`cheaperFirst`).
 * Reading prices through the records cost cache misses at every step; a match moves one offer in
 * every module's bucket it is in, and each move searches a list. The exact price and id beside it
 * were 16 bytes (and a bigint) per offer per bucket, for the few ties a search meets.
 *
 * Both arrays are allocated at their full `CHUNK + 1` once: a list that grew and shrank by one at
 * every move (push, pop) made V8 trim and regrow its backing store, a copy of the chunk each time.
 */
interface Chunk {
  /** The first `n` are the offers (the rest `undefined`, holding nothing). */
  items: (Rec | undefined)[];
  /** `Number(price)` of each of the first `n` of `items`. */
  keys: Float64Array;
  n: number;
}

/**
 * `cheaperFirst` of two offers whose prices are both `p` as numbers: below 2^53 that is exact, so
 * the prices are equal and only the ids decide (without reading the two bigints, a cache miss
 * each); above it the prices may still differ and are compared.
 */
const tied = (a: Rec, b: Rec, p: number) => (Number.isSafeInteger(p) ? byOfferId(a, b) : cheaperFirst(a, b));

/** Whether the offer at `i` of `chunk` ranks before `rec` (cheaper, then the lower id); `f` is its key. */
function before(chunk: Chunk, i: number, rec: Rec, f: number): boolean {
  const k = chunk.keys[i]!;
  if (k !== f) return k < f;
  return tied(chunk.items[i]!, rec, f) < 0;
}

const newChunk = (): Chunk => ({ items: new Array<Rec | undefined>(CHUNK + 1).fill(undefined), keys: new Float64Array(CHUNK + 1), n: 0 });

/**
 * Offers cheapest first (ties by id), in chunks of at most `CHUNK`: an insert or removal moves at
 * most one chunk's items, not the whole list. A class of the most popular module holds a large
 * share of the book (tens of thousands of offers), and a provider that takes a deal moves its
 * offers between classes, so one flat sorted array made every match shift that much memory.
 * Methods take the offer's price as a number (`p`, computed once per move by the caller).
 */
class SortedOffers {
  readonly chunks: Chunk[] = [];
  /** Each chunk's last price as a number, in one array: finding the chunk reads these, not every chunk's own arrays. */
  private readonly lasts: number[] = [];
  private count = 0;
  /** The cheapest offer's price as a number (Infinity when empty): the ranking reads it for every class. */
  headP = Number.POSITIVE_INFINITY;

  get length(): number {
    return this.count;
  }

  /** The cheapest offer. */
  first(): Rec | undefined {
    return this.chunks[0]?.items[0];
  }

  /** Every offer, cheapest first. */
  toArray(): Rec[] {
    return this.chunks.flatMap((c) => c.items.slice(0, c.n) as Rec[]);
  }

  /** The chunk `rec` (priced `p`) sits in or would go in: the first whose last offer does not rank before it. */
  private chunkOf(rec: Rec, p: number): number {
    const chunks = this.chunks;
    let lo = 0;
    let hi = chunks.length - 1;
    const lasts = this.lasts;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const k = lasts[mid]!;
      if (k < p) lo = mid + 1;
      else if (k > p) hi = mid;
      else {
        const chunk = chunks[mid]!;
        if (tied(chunk.items[chunk.n - 1]!, rec, p) < 0) lo = mid + 1;
        else hi = mid;
      }
    }
    return lo;
  }

  private setLast(ci: number): void {
    const chunk = this.chunks[ci]!;
    this.lasts[ci] = chunk.keys[chunk.n - 1]!;
  }

  private setHead(): void {
    this.headP = this.chunks.length > 0 ? this.chunks[0]!.keys[0]! : Number.POSITIVE_INFINITY;
  }

  insert(rec: Rec, p: number): void {
    this.count++;
    if (this.chunks.length === 0) {
      const chunk = newChunk();
      chunk.items[0] = rec;
      chunk.keys[0] = p;
      chunk.n = 1;
      this.chunks.push(chunk);
      this.lasts.push(p);
      this.headP = p;
      return;
    }
    const ci = this.chunkOf(rec, p);
    const chunk = this.chunks[ci]!;
    const { items, keys } = chunk;
    // Shifted by hand: splice allocates and takes V8's generic path, and a move does two of these.
    const at = position(chunk, rec, p);
    const n = chunk.n;
    for (let k = n; k > at; k--) items[k] = items[k - 1];
    keys.copyWithin(at + 1, at, n);
    items[at] = rec;
    keys[at] = p;
    chunk.n = n + 1;
    if (n + 1 > CHUNK) {
      const half = CHUNK >>> 1;
      const rest = newChunk();
      for (let k = half; k <= n; k++) {
        rest.items[k - half] = items[k];
        items[k] = undefined;
      }
      rest.keys.set(keys.subarray(half, n + 1));
      rest.n = n + 1 - half;
      chunk.n = half;
      this.chunks.splice(ci + 1, 0, rest);
      this.lasts.splice(ci, 0, 0);
      this.setLast(ci);
      this.setLast(ci + 1);
    } else if (at === n) this.lasts[ci] = p;
    if (ci === 0 && at === 0) this.headP = p;
  }

  /** Remove `rec` (priced `p`); returns whether it was there. */
  remove(rec: Rec, p: number): boolean {
    // Found by identity among the offers of its key, not by comparing records: those are a cache
    // miss each, and the class a matched offer leaves is the crowded one (many offers share a price).
    const { chunks, lasts } = this;
    let ci = lowerBound(lasts, lasts.length, p);
    let at = -1;
    for (; ci < chunks.length; ci++) {
      const { items, keys, n } = chunks[ci]!;
      for (let k = lowerBound(keys, n, p); k < n && keys[k] === p; k++)
        if (items[k] === rec) {
          at = k;
          break;
        }
      if (at >= 0 || lasts[ci] !== p) break; // found, or the run of its price ends in this chunk
    }
    if (at < 0) return false;
    const chunk = chunks[ci]!;
    const { items, keys } = chunk;
    const n = chunk.n;
    for (let k = at + 1; k < n; k++) items[k - 1] = items[k];
    keys.copyWithin(at, at + 1, n);
    items[n - 1] = undefined;
    chunk.n = n - 1;
    this.count--;
    if (n === 1) {
      this.chunks.splice(ci, 1);
      this.lasts.splice(ci, 1);
    } else if (at === n - 1) this.setLast(ci);
    if (ci === 0 && at === 0) this.setHead();
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

/** The first index of `sorted` (ascending, its first `length` values) whose value is not below `v`. */
function lowerBound(sorted: { readonly [i: number]: number }, length: number, v: number): number {
  let lo = 0;
  let hi = length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Where `rec` sits in `chunk` (cheapest first), or where it would go; `f` is its key. */
function position(chunk: Chunk, rec: Rec, f: number): number {
  let lo = 0;
  let hi = chunk.n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (before(chunk, mid, rec, f)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const sameResources = (a: Resources, b: Resources) => RESOURCE_KEYS.every((k) => a[k] === b[k]);

/** `modules` without repeats: the array itself when it has none (as offers do), so nothing is allocated per move. */
function distinct(modules: readonly string[]): readonly string[] {
  for (let i = 1; i < modules.length; i++) if (modules.lastIndexOf(modules[i]!, i - 1) >= 0) return [...new Set(modules)];
  return modules;
}

/** The active resource offers, indexed for matching, and what each provider owes its active deals. */
export class OfferIndex {
  /** Module -> class key -> class. */
  private readonly buckets = new Map<string, Bucket>();
  private readonly byId = new Map<Hex, Rec>();
  /** A provider's offers: the record itself while it has one (most do; a list each cost more than the offer's own fields), else a list. */
  private readonly byProvider = new Map<Address, Rec | Rec[]>();
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

  /** What `provider` owes (none when absent). */
  owedBy(provider: Address): Resources {
    return this.owed.get(provider) ?? NO_RESOURCES;
  }

  /** The interned capacity of `rec`'s offer: the first part of its class keys. */
  private capsIdOf(rec: Rec): number {
    const o = rec.offer;
    // A market has a few machine shapes: compared field by field, without building the map's key (a string per move).
    const known = this.capsById;
    if (known.length <= 32)
      for (let i = 0; i < known.length; i++) {
        const c = known[i]!;
        if (c.cpu === o.cpu && c.memoryMb === o.memoryMb && c.gpu === o.gpu && c.vramMb === o.vramMb) return i;
      }
    const capsKey = `${o.cpu},${o.memoryMb},${o.gpu},${o.vramMb}`;
    let capsId = this.capsIds.get(capsKey);
    if (capsId === undefined) {
      capsId = this.capsById.push(resourcesOf(o)) - 1;
      this.capsIds.set(capsKey, capsId);
    }
    return capsId;
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
    const capsId = this.capsIdOf(rec);
    const owed = this.owedBy(provider);
    const key = classKey(capsId, this.capsById[capsId]!, owed);
    const p = Number(rec.offer.price);
    for (const module of distinct(rec.offer.modules)) this.file(rec, p, module, key, capsId, owed);
  }

  /** Take an offer out of the index; returns whether it was in. */
  remove(id: Hex): boolean {
    const rec = this.byId.get(id);
    if (!rec) return false;
    this.byId.delete(id);
    const provider = rec.offer.provider;
    const held = this.byProvider.get(provider);
    const left = Array.isArray(held) ? held.filter((r) => r !== rec) : [];
    if (left.length === 0) this.byProvider.delete(provider);
    else this.byProvider.set(provider, left.length === 1 ? left[0]! : left);
    const capsId = this.capsIdOf(rec);
    const key = classKey(capsId, this.capsById[capsId]!, this.owedBy(provider));
    const p = Number(rec.offer.price);
    for (const module of distinct(rec.offer.modules)) this.unfile(rec, p, module, key);
    return true;
  }

  /**
   * The provider now owes `used` to its active deals: its offers move to the class of that usage,
   * in each module's bucket, where that class differs (usage rounds to a level).
   */
  fill(provider: Address, used: Resources): void {
    const before = this.owedBy(provider);
    if (sameResources(before, used)) return;
    this.owe(provider, before, used);
  }

  /** The provider now also owes `more` (one more deal's): `fill` with its usage plus `more`. */
  useMore(provider: Address, more: Resources): void {
    if (more.cpu === 0 && more.memoryMb === 0 && more.gpu === 0 && more.vramMb === 0) return;
    const before = this.owedBy(provider);
    this.owe(provider, before, addResources(before, more));
  }

  private owe(provider: Address, before: Resources, used: Resources): void {
    const now = sameResources(used, NO_RESOURCES) ? NO_RESOURCES : resourcesOf(used);
    if (now === NO_RESOURCES) this.owed.delete(provider);
    else this.owed.set(provider, now);
    const held = this.byProvider.get(provider);
    if (held === undefined) return;
    for (const rec of Array.isArray(held) ? held : [held]) {
      const capsId = this.capsIdOf(rec);
      const caps = this.capsById[capsId]!;
      const from = classKey(capsId, caps, before);
      const to = classKey(capsId, caps, now);
      // An offer whose class is the same at the new usage stays where it is (usage rounds to a level).
      if (from === to) continue;
      const p = Number(rec.offer.price);
      for (const module of distinct(rec.offer.modules)) {
        this.unfile(rec, p, module, from);
        this.file(rec, p, module, to, capsId, now);
      }
    }
  }

  /**
   * Take every provider's usage from `used` (the book's, read at the start of a pass): offers move
   * only for providers whose usage changed. The walk itself is over every busy provider, every
   * pass (the book's map is its own), so it is kept to one lookup each: the values compared field
   * by field, and the index's providers missing from `used` looked for only when the count says
   * some are (it cost ~1.5 ms a pass with 10k busy providers, more than matching the pass's job).
   */
  syncUsed(used: ReadonlyMap<Address, Resources>): void {
    if (used === this.owed) return; // the caller is the index's own planning, already in step
    const owed = this.owed;
    /** Providers of `used` owing something: each is in `owed` once synced. */
    let busy = 0;
    for (const [provider, r] of used) {
      if (r.cpu !== 0 || r.memoryMb !== 0 || r.gpu !== 0 || r.vramMb !== 0) busy++;
      const before = owed.get(provider) ?? NO_RESOURCES;
      if (before.cpu === r.cpu && before.memoryMb === r.memoryMb && before.gpu === r.gpu && before.vramMb === r.vramMb) continue;
      this.owe(provider, before, r);
    }
    if (owed.size === busy) return;
    // Deleting the entry being visited is safe in a Map's iteration.
    for (const [provider, before] of owed) if (!used.has(provider)) this.owe(provider, before, NO_RESOURCES);
  }

  /** The classes of `module`'s bucket (read-only; for the ranking below). */
  bucket(module: string): readonly OfferClass[] {
    return this.buckets.get(module)?.all ?? [];
  }

  /** File `rec` (priced `p`) under `module`, in its class `key` (of capacity `capsId`, its provider owing `owed`). */
  private file(rec: Rec, p: number, module: string, key: number, capsId: number, owed: Resources): void {
    let bucket = this.buckets.get(module);
    if (!bucket) {
      bucket = { byKey: new Map(), all: [] };
      this.buckets.set(module, bucket);
    }
    let c = bucket.byKey.get(key);
    if (!c) {
      const caps = this.capsById[capsId]!;
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
    c.list.insert(rec, p);
  }

  /** Take `rec` (priced `p`) out of `module`'s class `key` (where `file` put it). */
  private unfile(rec: Rec, p: number, module: string, key: number): void {
    const bucket = this.buckets.get(module);
    const c = bucket?.byKey.get(key);
    if (!bucket || !c) return;
    c.list.remove(rec, p);
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

/** What the ranking reads of a plan: the snapshot, the plan's escrow holds, and what is the same for all its jobs. */
interface PlanState {
  snapshot: Pick<Snapshot, "excluded" | "escrow">;
  held: ReadonlyMap<Address, bigint>;
  now: number;
  /** Whether `snapshot.excluded` has any job. */
  excludesAny: boolean;
  /** The filters the ranking runs (less the module's and the price's, which the index applies)... */
  filters: readonly FilterPlugin[];
  /** ...and for a job that excludes nobody (an address is no key of an empty object), less the exclusions' filter too. */
  filtersIfNobodyExcluded: readonly FilterPlugin[];
}

const NOBODY: Readonly<Record<Address, string>> = Object.freeze({});

function hasKeys(o: object): boolean {
  for (const _ in o) return true;
  return false;
}

/**
 * An empty object for keys that are ids or addresses (a plan's rejections), in V8's dictionary
 * mode from the start: a fast-mode object grows a new hidden class for every key it has not seen
 * (each job id, each provider), which cost more than the rest of a job's bookkeeping. The same
 * object to every reader (prototype, keys and their order).
 */
function keyedRecord<V>(): Record<string, V> {
  const o: Record<string, V> = { a: undefined as V, b: undefined as V };
  // Deleting a property other than the last one turns V8's object into a dictionary.
  delete o.a;
  delete o.b;
  return o;
}

/** A class being read, cheapest first: `next` is its offer at `list.chunks[chunk][at]`, the next to evaluate. */
interface Cursor {
  c: OfferClass;
  chunk: number;
  at: number;
  next: Rec;
  /** `next`'s price as a number. */
  p: number;
  ceiling: number;
}
interface Ranked {
  rec: Rec;
  /** Its price as a number. */
  p: number;
  score: number;
}

/**
 * `byRank` (the higher score first, then cheaper, then the lower id), with each offer's price as a
 * number (`aP`, `bP`): ordered as the prices wherever they differ (Number() of a bigint only
 * rounds), so only equal ones compare the records.
 */
const ranksBefore = (aScore: number, a: Rec, aP: number, bScore: number, b: Rec, bP: number) =>
  aScore > bScore || (aScore === bScore && (aP < bP || (aP === bP && tied(a, b, aP) < 0)));

/**
 * The offers that pass every filter for `job`, best first (score, then lower offer id), exactly as
 * the naive scan ranks them, evaluated only as far as they are read. Rejections of the offers it
 * evaluated go to `rejected`; the offers that fit go to `fit`.
 */
function* ranked(
  index: OfferIndex,
  job: JobRef,
  config: MatchConfig,
  state: PlanState,
  rejected: Record<string, string>,
  fit: ResourceOfferRecord[],
): Generator<ResourceOfferRecord> {
  const j: JobOffer = job.offer;
  const scores = config.scores;
  // An offer read here is in the job's module's bucket and within its budget: of the filters, the
  // module's and the price's pass it by construction, so only the others are run (same first reason).
  // Likewise the exclusions' filter, for a job that excludes nobody (an address is no key of an empty object).
  // (The exclusions are read only when the snapshot has some: a lookup by a job id not seen before costs V8 more than the rest of a typical job's setup.)
  const excluded = (state.excludesAny && state.snapshot.excluded[job.id]) || NOBODY;
  const excludesNobody = excluded === NOBODY || !hasKeys(excluded);
  const filters = excludesNobody ? state.filtersIfNobodyExcluded : state.filters;
  const contextOf = contextsFor(job, state.snapshot, state.held, state.now, excluded);
  const maxPrice = j.maxPrice;
  const maxP = Number(maxPrice);
  /** `price <= maxPrice` for `rec` priced `p` as a number, mostly without comparing bigints. */
  const affordable = (rec: Rec, p: number) => p < maxP || (p === maxP && rec.offer.price <= maxPrice);
  const ceilingOf = (c: OfferClass, rec: Rec) => {
    let sum = 0; // summed in the order of `scores`, as the scores themselves are
    for (const s of scores) sum += s.weight * (s.ceiling ? s.ceiling(j, rec.offer, c.used) : 100);
    return sum;
  };
  // Classes by the rank their next offer would have if it scored its ceiling. Along a class the
  // ceiling only falls while price (then id) rises, so this is the rank order of the ceilings.
  const classes = new Heap<Cursor>((a, b) => ranksBefore(a.ceiling, a.next, a.p, b.ceiling, b.next, b.p));
  const bucket = index.bucket(j.module);
  for (let b = 0; b < bucket.length; b++) {
    const c = bucket[b]!;
    // REJECT (by the index): a class whose free capacity cannot hold the job, an offer above maxPrice
    if (j.cpu > c.freeCpu || j.memoryMb > c.freeMemoryMb || j.gpu > c.freeGpu || j.vramMb > c.freeVramMb) continue;
    const list = c.list;
    if (list.length === 0 || list.headP > maxP) continue;
    const head = list.first()!;
    const p = list.headP;
    if (!affordable(head, p)) continue;
    classes.push({ c, chunk: 0, at: 0, next: head, p, ceiling: ceilingOf(c, head) });
  }
  const found = new Heap<Ranked>((a, b) => ranksBefore(a.score, a.rec, a.p, b.score, b.rec, b.p));
  for (;;) {
    for (let top = classes.peek(); top; top = classes.peek()) {
      const rec = top.next;
      const p = top.p;
      const c = top.c;
      const best = found.peek();
      // Nothing left unevaluated ranks before `rec` at its ceiling: the best found can go first.
      if (best && ranksBefore(best.score, best.rec, best.p, top.ceiling, rec, p)) break;
      const chunks = c.list.chunks;
      if (++top.at >= chunks[top.chunk]!.n) {
        top.chunk++;
        top.at = 0;
      }
      const after = chunks[top.chunk]?.items[top.at];
      const afterP = after ? chunks[top.chunk]!.keys[top.at]! : 0;
      if (after && affordable(after, afterP)) {
        top.next = after;
        top.p = afterP;
        top.ceiling = ceilingOf(c, after);
        classes.fixTop();
      } else classes.pop();
      const ctx = contextOf(rec, index.owedBy(rec.offer.provider));
      const reason = firstRejection(filters, job, rec, ctx);
      if (reason) {
        noteRejection(rejected, rec.offer.provider, reason);
        continue;
      }
      fit.push(rec);
      let score = 0;
      for (const s of scores) score += s.weight * s.score(j, rec.offer, ctx);
      found.push({ rec, p, score });
    }
    const best = found.pop();
    if (!best) return;
    yield best.rec;
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
  const rankFilters = config.filters.filter((f) => f !== moduleAllowed && f !== priceWithinBudget);
  const state: PlanState = {
    snapshot,
    held,
    now,
    excludesAny: hasKeys(snapshot.excluded),
    filters: rankFilters,
    filtersIfNobodyExcluded: rankFilters.filter((f) => f !== notExcluded),
  };
  const plan: Plan = { proposals: [], rejections: keyedRecord() };
  for (const job of snapshot.jobs) {
    const k = dealsPerJob(job.offer);
    const rejected = keyedRecord<string>();
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
