// A class's offers in the offer index (offerIndex.ts), cheapest first (ties by offer id), in
// chunks: the list a job reads, and the one a matched offer leaves and joins. Kept apart from the
// index, whose classes and ranking build on it.
import type { ResourceOfferRecord } from "@lily/protocol";
import { byOfferId, cheaperFirst } from "./match.ts";
import type { TieOrder } from "./tieOrder.ts";

type Rec = ResourceOfferRecord;

/** Most offers one chunk of a `SortedOffers` holds before it splits in two. */
const CHUNK = 256;

/**
 * A run of a class's offers, cheapest first, with each one's price as a number (`Number(price)`:
 * it only rounds, so keys that differ decide) beside it in a typed array of its own: a search
 * reads the keys (one block of memory) and only on equal keys the two records (`cheaperFirst`).
 * Reading prices through the records cost cache misses at every step.
 *
 * The arrays are allocated at their full `CHUNK + 1` once: a list that grew and shrank by one at
 * every move (push, pop) made V8 trim and regrow its backing store, a copy of the chunk each time.
 */
export interface Chunk {
  /** The first `n` are the offers (the rest `undefined`, holding nothing). */
  items: (Rec | undefined)[];
  /** `Number(price)` of each of the first `n` of `items`. */
  keys: Float64Array;
  /** Each one's tie key (`TieOrder`): orders offers of one price by id without reading them. */
  ties: Float64Array;
  /** Each offer's mask (see `SortedOffers`). */
  masks: Uint32Array;
  n: number;
}

/**
 * `cheaperFirst` of two offers whose prices are both `p` as numbers: below 2^53 that is exact, so
 * the prices are equal and only the ids decide (without reading the two bigints, a cache miss
 * each); above it the prices may still differ and are compared.
 */
export const tied = (a: Rec, b: Rec, p: number) => (Number.isSafeInteger(p) ? byOfferId(a, b) : cheaperFirst(a, b));

/** `tied`, with each offer's tie key (`Chunk.ties`, of lists of one index): the keys decide where they can, without reading the records. */
export const tiedKeyed = (a: Rec, aT: number, b: Rec, bT: number, p: number) =>
  aT !== bT && aT >= 0 && bT >= 0 && Number.isSafeInteger(p) ? aT - bT : tied(a, b, p);

/**
 * Whether the offer at `i` of `chunk` ranks before `rec` (cheaper, then the lower id); `f` is its
 * key and `t` its tie key. Equal keys below 2^53 are equal prices: the tie keys decide where they
 * can, the ids where they cannot.
 */
function before(chunk: Chunk, i: number, rec: Rec, f: number, t: number): boolean {
  const k = chunk.keys[i]!;
  if (k !== f) return k < f;
  return tiedKeyed(chunk.items[i]!, chunk.ties[i]!, rec, t, f) < 0;
}

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

/** Where `rec` sits in `chunk` (cheapest first), or where it would go; `f` is its key, `t` its tie key. */
function position(chunk: Chunk, rec: Rec, f: number, t: number): number {
  let lo = 0;
  let hi = chunk.n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (before(chunk, mid, rec, f, t)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Offers cheapest first (ties by id), in chunks of at most `CHUNK`: an insert or removal moves at
 * most one chunk's items, not the whole list. A class can hold a large share of the book (tens of
 * thousands of offers), and a provider that takes a deal moves its offers between classes, so one
 * flat sorted array made every match shift that much memory. Methods take the offer's price as a
 * number (`p`, computed once per move by the caller).
 *
 * Every offer has a 32-bit mask beside it (the offer index's module bits and whether it lists a
 * mediator), handed in on insert and back on removal, so a reader can skip offers without reading them.
 */
export class SortedOffers {
  readonly chunks: Chunk[] = [];
  /** Each chunk's last price as a number, in one array: finding the chunk reads these, not every chunk's own arrays. */
  private readonly lasts: number[] = [];
  private count = 0;
  /** The tie keys' maker, the same for every list of one index. */
  private readonly order: TieOrder;
  /** The cheapest offer's price as a number (Infinity when empty). */
  headP = Number.POSITIVE_INFINITY;

  constructor(order: TieOrder) {
    this.order = order;
  }

  get length(): number {
    return this.count;
  }

  /** Every offer, cheapest first, with its mask. */
  entries(): { rec: Rec; mask: number }[] {
    return this.chunks.flatMap((c) => c.items.slice(0, c.n).map((rec, i) => ({ rec: rec!, mask: c.masks[i]! })));
  }

  private newChunk(): Chunk {
    return {
      items: new Array<Rec | undefined>(CHUNK + 1).fill(undefined),
      keys: new Float64Array(CHUNK + 1),
      ties: new Float64Array(CHUNK + 1),
      masks: new Uint32Array(CHUNK + 1),
      n: 0,
    };
  }

  /** The chunk `rec` (priced `p`, tie key `t`) sits in or would go in: the first whose last offer does not rank before it. */
  private chunkOf(rec: Rec, p: number, t: number): number {
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
        if (before(chunks[mid]!, chunks[mid]!.n - 1, rec, p, t)) lo = mid + 1;
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

  insert(rec: Rec, p: number, mask = 0): void {
    this.count++;
    const t = this.order.key(rec.id);
    if (this.chunks.length === 0) {
      const chunk = this.newChunk();
      chunk.items[0] = rec;
      chunk.keys[0] = p;
      chunk.ties[0] = t;
      chunk.masks[0] = mask;
      chunk.n = 1;
      this.chunks.push(chunk);
      this.lasts.push(p);
      this.headP = p;
      return;
    }
    const ci = this.chunkOf(rec, p, t);
    const chunk = this.chunks[ci]!;
    const { items, keys, ties, masks } = chunk;
    // Shifted by hand: splice allocates and takes V8's generic path, and a move does two of these.
    const at = position(chunk, rec, p, t);
    const n = chunk.n;
    for (let k = n; k > at; k--) items[k] = items[k - 1];
    keys.copyWithin(at + 1, at, n);
    ties.copyWithin(at + 1, at, n);
    items[at] = rec;
    keys[at] = p;
    ties[at] = t;
    masks.copyWithin(at + 1, at, n);
    masks[at] = mask;
    chunk.n = n + 1;
    if (n + 1 > CHUNK) {
      const half = CHUNK >>> 1;
      const rest = this.newChunk();
      for (let k = half; k <= n; k++) {
        rest.items[k - half] = items[k];
        items[k] = undefined;
      }
      rest.keys.set(keys.subarray(half, n + 1));
      rest.ties.set(ties.subarray(half, n + 1));
      rest.masks.set(masks.subarray(half, n + 1));
      rest.n = n + 1 - half;
      chunk.n = half;
      this.chunks.splice(ci + 1, 0, rest);
      this.lasts.splice(ci, 0, 0);
      this.setLast(ci);
      this.setLast(ci + 1);
    } else if (at === n) this.lasts[ci] = p;
    if (ci === 0 && at === 0) this.headP = p;
  }

  /**
   * Where `rec` (priced `p`) is, as chunk and slot, or undefined. Found by identity among the
   * offers of its key, not by comparing records: those are a cache miss each, and the class a
   * matched offer leaves is the crowded one (many offers share a price).
   */
  private find(rec: Rec, p: number): { ci: number; at: number } | undefined {
    const { chunks, lasts } = this;
    for (let ci = lowerBound(lasts, lasts.length, p); ci < chunks.length; ci++) {
      const { items, keys, n } = chunks[ci]!;
      for (let k = lowerBound(keys, n, p); k < n && keys[k] === p; k++) if (items[k] === rec) return { ci, at: k };
      if (lasts[ci] !== p) return undefined; // the run of its price ends in this chunk
    }
    return undefined;
  }

  /** Remove `rec` (priced `p`); returns its mask, or -1 when it was not there. */
  remove(rec: Rec, p: number): number {
    const found = this.find(rec, p);
    if (!found) return -1;
    const { ci, at } = found;
    const chunk = this.chunks[ci]!;
    const { items, keys, ties, masks } = chunk;
    const n = chunk.n;
    const mask = masks[at]!;
    for (let k = at + 1; k < n; k++) items[k - 1] = items[k];
    keys.copyWithin(at, at + 1, n);
    ties.copyWithin(at, at + 1, n);
    masks.copyWithin(at, at + 1, n);
    items[n - 1] = undefined;
    chunk.n = n - 1;
    this.count--;
    if (n === 1) {
      this.chunks.splice(ci, 1);
      this.lasts.splice(ci, 1);
    } else if (at === n - 1) this.setLast(ci);
    if (ci === 0 && at === 0) this.setHead();
    return mask;
  }

  /** Make every offer's tie key again (the index's `TieOrder` reads its ids from another place now). */
  rekey(): void {
    for (const { items, ties, n } of this.chunks) for (let i = 0; i < n; i++) ties[i] = this.order.key(items[i]!.id);
  }

  /** Set `bits` in the mask of `rec` (priced `p`); returns whether it was there. */
  markOne(rec: Rec, p: number, bits: number): boolean {
    const found = this.find(rec, p);
    if (!found) return false;
    const masks = this.chunks[found.ci]!.masks;
    masks[found.at] = (masks[found.at]! | bits) >>> 0;
    return true;
  }
}
