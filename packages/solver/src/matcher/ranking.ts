// The indexed matcher's lazy ranking of one job's offers (see offerIndex.ts's header): the classes
// a job reads, each at its next offer, in a heap by the rank a ceiling of that offer's score
// gives; an offer is evaluated (filters, then scores) only when it comes to the top, and handed
// out best first once no offer left unevaluated can beat it.
//
// One `Ranking` serves every job an index plans, one after the other: its cursors and heaps are
// flat arrays kept from job to job, not objects made per job and per class read. A job reads a
// handful of classes and evaluates one or two offers, so the allocations (a generator, two
// heaps, a cursor per class, a record per offer found, each with its numbers boxed) cost more
// than the reading itself.
import type { Address, Hex } from "viem";
import type { JobOffer, ResourceOfferRecord } from "@lily/protocol";
import { requiresMediator, type FilterPlugin, type MatchContext } from "./filters.ts";
import { contextsFor, firstRejection, noteRejection, type Holds, type JobRef, type MatchConfig, type Snapshot } from "./match.ts";
import type { Resources } from "./resources.ts";
import type { ScorePlugin } from "./scores.ts";
import { tiedKeyed, type Chunk } from "./sortedOffers.ts";

type Rec = ResourceOfferRecord;

/** In an offer's mask in the index's lists: the offer lists at least one mediator. */
export const LISTS_MEDIATORS = 0x4000_0000;

/** What the ranking reads of a class of the offer index (offerIndex.ts's `OfferClass`). */
export interface RankedClass {
  caps: Resources;
  used: Resources;
  /**
   * Every member's provider owes exactly `used` (nothing: the class of idle providers), so the
   * ranking takes `used` as it is instead of looking each provider up: most of a book is idle,
   * and that lookup (a map of providers, a cache miss or two each) was the most of a job's time.
   * Else each owes at least `used`, and is looked up.
   */
  exact: boolean;
  /** `caps` less `used`, on the class itself: the ranking checks every class it reads against it. */
  freeCpu: number;
  freeMemoryMb: number;
  freeGpu: number;
  freeVramMb: number;
  list: { readonly chunks: readonly Chunk[]; readonly headP: number };
}

/** What the ranking reads of the offer index. */
export interface RankingSource {
  /** The classes a job of `module` reads, and the mask bit its offers carry there (0: every offer is the module's); each offer's mask has `LISTS_MEDIATORS` where it applies. */
  view(module: string): { classes: readonly RankedClass[]; want: number } | undefined;
  owedBy(provider: Address): Resources;
}

/** What the ranking reads of a plan: the snapshot, the plan's escrow holds, and what is the same for all its jobs. */
export interface PlanState {
  snapshot: Pick<Snapshot, "excluded" | "escrow" | "trustEscrow">;
  held: Pick<Holds, "get">;
  now: number;
  /** Whether `snapshot.excluded` has any job. */
  excludesAny: boolean;
  /** The filters the ranking runs (less the module's and the price's, which the index applies)... */
  filters: readonly FilterPlugin[];
  /** ...and for a job that excludes nobody (an address is no key of an empty object), less the exclusions' filter too. */
  filtersIfNobodyExcluded: readonly FilterPlugin[];
  /** The mediators' filter is on: a job that needs a mediator reads past the offers that list none (they fail it). */
  mediatorsIndexed: boolean;
}

const NOBODY: Readonly<Record<Address, string>> = Object.freeze({});

/**
 * An empty object for keys that are ids or addresses (a plan's rejections), in V8's dictionary
 * mode from the start: a fast-mode object grows a new hidden class for every key it has not seen
 * (each job id, each provider), which cost more than the rest of a job's bookkeeping. The same
 * object to every reader (prototype, keys and their order).
 */
export function keyedRecord<V>(): Record<string, V> {
  const o: Record<string, V> = { a: undefined as V, b: undefined as V };
  // Deleting a property other than the last one turns V8's object into a dictionary.
  delete o.a;
  delete o.b;
  return o;
}

export function hasKeys(o: object): boolean {
  for (const _ in o) return true;
  return false;
}

/**
 * `byRank` (the higher score first, then cheaper, then the lower id), with each offer's price as a
 * number (`aP`, `bP`) and its tie key (`aT`, `bT`): ordered as the prices wherever they differ
 * (Number() of a bigint only rounds), so only equal ones compare tie keys, and equal keys the records.
 */
export const ranksBefore = (aScore: number, a: Rec, aP: number, aT: number, bScore: number, b: Rec, bP: number, bT: number) =>
  aScore > bScore || (aScore === bScore && (aP < bP || (aP === bP && tiedKeyed(a, aT, b, bT, aP) < 0)));

const grownF64 = (a: Float64Array, n: number) => {
  const g = new Float64Array(n);
  g.set(a);
  return g;
};
const grownI32 = (a: Int32Array, n: number) => {
  const g = new Int32Array(n);
  g.set(a);
  return g;
};

/** A binary heap of small integers (slots of the ranking's arrays), kept between jobs; `before(a, b)`: a comes out first. */
class SlotHeap {
  private items = new Int32Array(16);
  size = 0;
  private readonly before: (a: number, b: number) => boolean;
  constructor(before: (a: number, b: number) => boolean) {
    this.before = before;
  }
  get top(): number {
    return this.items[0]!;
  }
  push(v: number): void {
    if (this.size === this.items.length) this.items = grownI32(this.items, this.items.length * 2);
    const a = this.items;
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(v, a[p]!)) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = v;
  }
  /** Take the top out (the heap must not be empty). */
  pop(): number {
    const a = this.items;
    const top = a[0]!;
    const last = a[--this.size]!;
    if (this.size > 0) this.place(last);
    return top;
  }
  /** The top's rank changed (it only falls): sift it down. */
  fixTop(): void {
    this.place(this.items[0]!);
  }
  /** Put `v` at the root and sift it down. */
  private place(v: number): void {
    const a = this.items;
    const n = this.size;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const m = r < n && this.before(a[r]!, a[l]!) ? r : l;
      if (!this.before(a[m]!, v)) break;
      a[i] = a[m]!;
      i = m;
    }
    a[i] = v;
  }
}

/**
 * The offers that pass every filter for one job, best first (score, then cheaper, then lower offer
 * id), exactly as the naive scan ranks them, evaluated only as far as they are read. Rejections
 * of the offers it evaluated go to `rejected` (made on the first one); the offers that fit are in
 * `fit`. Iterable (each iteration reads on from where the last stopped) so `pickGroup` takes it as
 * it takes a list; the iterator result is one object, reused.
 */
export class Ranking implements Iterable<Rec>, Iterator<Rec> {
  // A cursor per class being read: `next` is its offer at `list.chunks[chunk][at]`, the next to
  // evaluate, `p` its price as a number, `ceiling` the most it can score. A cursor `unsought` has
  // not looked for its first offer yet: it stands at its class's head (the cheapest offer, of any
  // module, lowest id first) with that price's ceiling, a rank no offer it can find beats, and
  // seeks only when that comes to the top. A job reads every class its needs fit in (tens, once
  // providers fill) and takes its offers from one or two: seeking each (masks read until its
  // module's bit) was the most of a job's setup.
  private cls: RankedClass[] = [];
  private chunk = new Int32Array(16);
  private at = new Int32Array(16);
  private unsought = new Uint8Array(16);
  private nextRec: Rec[] = [];
  private p = new Float64Array(16);
  /** The next offer's tie key (`Chunk.ties`). */
  private t = new Float64Array(16);
  private ceiling = new Float64Array(16);
  private readonly classes = new SlotHeap((a, b) =>
    ranksBefore(this.ceiling[a]!, this.nextRec[a]!, this.p[a]!, this.t[a]!, this.ceiling[b]!, this.nextRec[b]!, this.p[b]!, this.t[b]!),
  );
  // The offers found to fit, with their price as a number, tie key and score.
  private foundRec: Rec[] = [];
  private foundP = new Float64Array(16);
  private foundT = new Float64Array(16);
  private foundScore = new Float64Array(16);
  private foundN = 0;
  private readonly found = new SlotHeap((a, b) =>
    ranksBefore(
      this.foundScore[a]!,
      this.foundRec[a]!,
      this.foundP[a]!,
      this.foundT[a]!,
      this.foundScore[b]!,
      this.foundRec[b]!,
      this.foundP[b]!,
      this.foundT[b]!,
    ),
  );
  /** The offers that passed every filter, in the order evaluated. */
  readonly fit: Rec[] = [];
  private readonly result: { done: boolean; value: Rec } = { done: true, value: undefined as unknown as Rec };

  // The job being ranked (set by `start`).
  private source!: RankingSource;
  private job!: JobRef;
  private scores!: readonly ScorePlugin[];
  private filters!: readonly FilterPlugin[];
  private contextOf!: (offer: Rec, used: Resources) => MatchContext;
  /** The job's rejections so far: undefined while there are none (most jobs that match meet none). */
  rejected: Record<string, string> | undefined;
  private want = 0;
  private maxP = 0;
  private maxPrice = 0n;

  /** Rank `job`'s offers in `source` from the start; rejections go to `rejected`. */
  start(source: RankingSource, job: JobRef, config: Pick<MatchConfig, "scores">, state: PlanState): this {
    const j: JobOffer = job.offer;
    this.source = source;
    this.job = job;
    this.scores = config.scores;
    this.rejected = undefined;
    this.fit.length = 0;
    this.foundN = 0;
    this.found.size = 0;
    this.classes.size = 0;
    // An offer read here allows the job's module and is within its budget: of the filters, the
    // module's and the price's pass it by construction, so only the others are run (same first reason).
    // Likewise the exclusions' filter, for a job that excludes nobody (an address is no key of an empty object).
    // (The exclusions are read only when the snapshot has some: a lookup by a job id not seen before costs V8 more than the rest of a typical job's setup.)
    const excluded = (state.excludesAny && state.snapshot.excluded[job.id as Hex]) || NOBODY;
    this.filters = excluded === NOBODY || !hasKeys(excluded) ? state.filtersIfNobodyExcluded : state.filters;
    this.contextOf = contextsFor(job, state.snapshot, state.held, state.now, excluded);
    const maxPrice = j.maxPrice;
    const maxP = Number(maxPrice);
    this.maxPrice = maxPrice;
    this.maxP = maxP;
    const view = source.view(j.module);
    // REJECT (by the index): an offer listing no mediator, for a job that needs one (`mediatorAccepted` refuses it).
    const want = (view?.want ?? 0) | (state.mediatorsIndexed && requiresMediator(j) ? LISTS_MEDIATORS : 0);
    this.want = want;
    const all = view?.classes ?? [];
    if (this.chunk.length < all.length) this.growCursors(all.length);
    let n = 0;
    for (let b = 0; b < all.length; b++) {
      const c = all[b]!;
      // REJECT (by the index): a class whose free capacity cannot hold the job, an offer of another module, or above maxPrice
      if (j.cpu > c.freeCpu || j.memoryMb > c.freeMemoryMb || j.gpu > c.freeGpu || j.vramMb > c.freeVramMb) continue;
      if (c.list.headP > maxP) continue;
      this.cls[n] = c;
      this.chunk[n] = 0;
      this.at[n] = -1;
      this.unsought[n] = 1;
      const head = c.list.chunks[0]!;
      this.nextRec[n] = head.items[0]!;
      this.p[n] = c.list.headP;
      this.t[n] = head.ties[0]!;
      this.ceiling[n] = this.ceilingOf(c, c.list.headP);
      this.classes.push(n++);
    }
    return this;
  }

  /** Let go of the last job's plan (its snapshot and holds, through the contexts' closure): kept only while it is ranked. */
  release(): void {
    this.source = undefined!;
    this.job = undefined!;
    this.contextOf = undefined!;
    this.rejected = undefined;
    this.fit.length = 0;
  }

  [Symbol.iterator](): Iterator<Rec> {
    return this;
  }

  next(): IteratorResult<Rec> {
    const rec = this.nextOffer();
    const r = this.result;
    r.done = rec === undefined;
    r.value = rec as Rec;
    return r as IteratorResult<Rec>;
  }

  /** The next best offer that fits, or undefined when none is left. */
  nextOffer(): Rec | undefined {
    const { classes, found, scores } = this;
    const j = this.job.offer;
    while (classes.size > 0) {
      const top = classes.top;
      const rec = this.nextRec[top]!;
      const p = this.p[top]!;
      const t = this.t[top]!;
      const c = this.cls[top]!;
      // Nothing left unevaluated ranks before `rec` at its ceiling: the best found can go first.
      if (found.size > 0) {
        const best = found.top;
        if (ranksBefore(this.foundScore[best]!, this.foundRec[best]!, this.foundP[best]!, this.foundT[best]!, this.ceiling[top]!, rec, p, t)) break;
      }
      if (this.unsought[top] === 1) {
        // Its head's rank bounds what it finds (a dearer or later offer, scoring at most that
        // ceiling), so it only falls in the heap; the same offers are evaluated, in the same order,
        // as if every cursor had sought first.
        this.unsought[top] = 0;
        const bound = this.ceiling[top]!;
        if (this.seek(top)) {
          this.ceiling[top] = Math.min(bound, this.ceilingOf(c, this.p[top]!));
          classes.fixTop();
        } else classes.pop();
        continue;
      }
      if (this.seek(top)) {
        this.ceiling[top] = this.ceilingOf(c, this.p[top]!);
        classes.fixTop();
      } else classes.pop();
      const ctx = this.contextOf(rec, c.exact ? c.used : this.source.owedBy(rec.offer.provider));
      const reason = firstRejection(this.filters, this.job, rec, ctx);
      if (reason) {
        this.rejected ??= keyedRecord();
        noteRejection(this.rejected, rec.offer.provider, reason);
        continue;
      }
      this.fit.push(rec);
      let score = 0;
      for (const s of scores) score += s.weight * s.score(j, rec.offer, ctx);
      const f = this.foundN++;
      if (f === this.foundP.length) {
        this.foundP = grownF64(this.foundP, 2 * f);
        this.foundT = grownF64(this.foundT, 2 * f);
        this.foundScore = grownF64(this.foundScore, 2 * f);
      }
      this.foundRec[f] = rec;
      this.foundP[f] = p;
      this.foundT[f] = t;
      this.foundScore[f] = score;
      found.push(f);
    }
    return found.size > 0 ? this.foundRec[found.pop()]! : undefined;
  }

  /** The most the scores can give an offer of class `c` priced `p` (a number) or dearer, summed in the order of `scores`, as the scores themselves are. */
  private ceilingOf(c: RankedClass, p: number): number {
    const j = this.job.offer;
    let sum = 0;
    for (const s of this.scores) sum += s.weight * (s.ceiling ? s.ceiling(j, c.caps, p, c.used) : 100);
    return sum;
  }

  private growCursors(n: number): void {
    const size = Math.max(n, 2 * this.chunk.length);
    this.chunk = grownI32(this.chunk, size);
    this.at = grownI32(this.at, size);
    const unsought = new Uint8Array(size);
    unsought.set(this.unsought);
    this.unsought = unsought;
    this.p = grownF64(this.p, size);
    this.t = grownF64(this.t, size);
    this.ceiling = grownF64(this.ceiling, size);
  }

  /**
   * Move cursor `i` to the next offer of its class after the one it is at that has every bit of
   * `want` (any offer when 0) and a price of at most `maxPrice` (`maxP` as a number); false when
   * none is left. Reads the keys and masks, and a record only for the offer it stops at.
   */
  private seek(i: number): boolean {
    const chunks = this.cls[i]!.list.chunks;
    const { want, maxP } = this;
    let at = this.at[i]! + 1;
    for (let ci = this.chunk[i]!; ci < chunks.length; ci++, at = 0) {
      const { keys, ties, masks, items, n } = chunks[ci]!;
      for (; at < n; at++) {
        const k = keys[at]!;
        // Cheapest first: past the budget, nothing later is within it.
        if (k > maxP) return false;
        if ((masks[at]! & want) !== want) continue;
        const rec = items[at]!;
        if (k === maxP && rec.offer.price > this.maxPrice) return false;
        this.chunk[i] = ci;
        this.at[i] = at;
        this.nextRec[i] = rec;
        this.p[i] = k;
        this.t[i] = ties[at]!;
        return true;
      }
    }
    return false;
  }
}
