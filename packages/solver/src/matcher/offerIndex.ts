// The indexed matcher: the same plan as `planMatches` (match.ts, the naive scan kept as the
// reference), without comparing every job with every offer.
//
// Active offers are indexed by what jobs filter on: by class, the offer's capacity and what its
// provider owes its active deals, then by price (ties by id) (sortedOffers.ts); and by module. A
// job reads only the classes its needs fit in free capacity, only its module's offers in them, and
// none above its maxPrice, and ranks them lazily (ranking.ts): the classes' cheapest offers in a
// heap ordered by a ceiling of their score (ties: cheaper, then lower id, as `byRank`) (the score
// plugins' `ceiling`), each offer evaluated with the filter chain only when popped (less the module's and
// the price's filters, which the index has already applied), and an offer is handed to
// `pickGroup` once no offer left unevaluated can beat it. So a job costs about as many filter
// runs as it has close competitors, not the size of the book.
//
// Modules: a match changes its provider's usage, so its offer moves class. An offer listed once
// per module it allows (as this index first did) moved in every one, ~40% of a job's time with
// 6.5 modules an offer; now each offer sits once in the shared classes, with a bit per *dense*
// module (one at least 1/16 of the offers allow, up to 30 of them) in a mask beside it, and a job
// of a dense module reads the shared classes skipping the offers without its bit (about 1/share of
// them read, from a typed array, for each one it wants: at most ~32, past which a module is made
// sparse again). A module fewer offers allow keeps its own classes, as
// before (reading the shared ones for it would skip too many), and its offers move in those too.
// Modules change side as the book changes (`rebalance`; the hysteresis keeps it rare).
//
// Mediators: a job that lists mediators or whose policy needs one (replicate, optimistic, audit)
// can take no offer that lists none, and those are often the cheapest on the book, so such a job
// met them first, every time (over a third of all the offers evaluated, with 1 job in 20
// replicated). Every list keeps a bit for "lists a mediator" (`LISTS_MEDIATORS`) in each offer's
// mask, and such a job reads past the offers without it as it reads past other modules'.
//
// Memory counts as much as time: the index keeps no object of its own per offer (an entry with
// exact numeric keys cost ~30 MiB of heap with 100k offers): a slot points at the record, beside
// its price as a number and its mask.
//
// Updates are incremental: `add` and `remove` an offer, `fill` a provider whose usage changed
// (its offers move class). Nothing is rebuilt per event. What the index cannot see (an offer the
// module, price or capacity keeps out) is never evaluated, so its rejection reason is not in the
// plan: `explainJob` computes every provider's reason on demand for one job (the naive scan), and
// `planIndexed` does the same for jobs that matched nothing while the book is small
// (`fullReasonsUpTo`), so small books keep their full reasons.
import type { Address, Hex } from "viem";
import type { ResourceOfferRecord } from "@lily/protocol";
import { mediatorAccepted, moduleAllowed, notExcluded, priceWithinBudget, resourcesFree, type FilterPlugin } from "./filters.ts";
import { jobCreatorRejection } from "./escrow.ts";
import { pickGroup } from "./group.ts";
import { dealsPerJob } from "./locks.ts";
import {
  contextFor,
  firstRejection,
  JOB_REJECTION,
  noteRejection,
  planMatches,
  proposeGroup,
  type Holds,
  type MatchConfig,
  type Plan,
  type Snapshot,
} from "./match.ts";
import { NO_RESOURCES, type RESOURCE_KEYS, addResources, resourcesOf, type Resources } from "./resources.ts";
import { hasKeys, keyedRecord, LISTS_MEDIATORS, Ranking, type PlanState, type RankedClass } from "./ranking.ts";
import { SortedOffers } from "./sortedOffers.ts";
import { TieOrder } from "./tieOrder.ts";

/**
 * Offers of one capacity whose providers owe about the same usage: one ceiling for all of them at
 * a price. `used` is a lower bound of what each member's provider owes (its usage rounded down to
 * a quarter of each capacity, `usageFloor`), so the class's free capacity and ceiling are upper
 * bounds for every member; each offer is still filtered and scored with its provider's true usage.
 * Exact usage made a class per distinct usage, and every job read every class. Providers that
 * owe nothing have a class of their own per capacity (`exact`), apart from those owing a little.
 */
interface OfferClass extends RankedClass {
  key: number;
  /** Where it sits in its `Classes`' `all`. */
  slot: number;
  /** Cheapest first, ties by offer id. */
  list: SortedOffers;
}

/** Classes by key and in an array (what a job reads, every class, is a plain loop): the shared ones, or a sparse module's own. */
interface Classes {
  byKey: Map<number, OfferClass>;
  all: OfferClass[];
}

/** What the index keeps of a module: how many offers allow it, and where they are listed. */
interface ModuleLists {
  count: number;
  /** Its bit in the shared classes' masks while it is dense; -1 while it keeps its own classes. */
  bit: number;
  /** Its own classes, while it is sparse. */
  own: Classes | undefined;
}

type Rec = ResourceOfferRecord;

/** Bits a mask has for modules; the last two are `LISTS_MEDIATORS` and `SPARSE_HINT`. */
export const MODULE_BITS = 30;
/** In an offer's mask: it may allow a sparse module (so it is in that module's classes too). Never missing where it does. */
const SPARSE_HINT = 0x8000_0000;
/** A module that at least 1 in this many offers allow reads the shared classes (dense)... */
const DENSE_SHARE = 16;
/** ...and one fewer than 1 in this many allow keeps its own (sparse): between the two it stays where it is. */
const SPARSE_SHARE = 32;
/** Every module's side is checked again after this many adds and removes (an add checks its own modules at once). */
const REBALANCE_EVERY = 256;

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
/** The part of a class key after the capacity's: each dimension's level, or `IDLE`. */
const IDLE = LEVELS ** 4;
const KEYS_PER_CAPS = IDLE + 1;
/** A class's key: the capacity, then the usage level of each dimension (`IDLE`: the provider owes nothing at all). */
const classKey = (capsId: number, caps: Resources, used: Resources) =>
  capsId * KEYS_PER_CAPS +
  (used.cpu === 0 && used.memoryMb === 0 && used.gpu === 0 && used.vramMb === 0
    ? IDLE
    : level(caps.cpu, used.cpu) +
      LEVELS * (level(caps.memoryMb, used.memoryMb) + LEVELS * (level(caps.gpu, used.gpu) + LEVELS * level(caps.vramMb, used.vramMb))));

const sameResources = (a: Resources, b: Resources) => a.cpu === b.cpu && a.memoryMb === b.memoryMb && a.gpu === b.gpu && a.vramMb === b.vramMb;

/** `modules` without repeats: the array itself when it has none (as offers do), so nothing is allocated per move. */
function distinct(modules: readonly string[]): readonly string[] {
  for (let i = 1; i < modules.length; i++) if (modules.lastIndexOf(modules[i]!, i - 1) >= 0) return [...new Set(modules)];
  return modules;
}

const newClasses = (): Classes => ({ byKey: new Map(), all: [] });

/** An offer's `LISTS_MEDIATORS` bit. */
const mediatedBit = (rec: Rec) => (rec.offer.mediators.length > 0 ? LISTS_MEDIATORS : 0);

/** The classes a job of one module reads, and the bit its offers carry there (0: every offer is the module's). */
export interface ModuleView {
  classes: readonly OfferClass[];
  want: number;
}

/** The active resource offers, indexed for matching, and what each provider owes its active deals. */
export class OfferIndex {
  /** Every offer, once, by class; masks name its dense modules. */
  private readonly shared = newClasses();
  private readonly modules = new Map<string, ModuleLists>();
  /** Which module holds each bit (undefined: free; no slot has it set). */
  private readonly bitOwners: (string | undefined)[] = new Array<string | undefined>(MODULE_BITS).fill(undefined);
  private readonly byId = new Map<Hex, Rec>();
  /** A provider's offers: the record itself while it has one (most do; a list each cost more than the offer's own fields), else a list. */
  private readonly byProvider = new Map<Address, Rec | Rec[]>();
  private readonly owed = new Map<Address, Resources>();
  /** Capacity ("cpu,memoryMb,gpu,vramMb") -> its id in class keys; and by id, one object each for the offers of that capacity. */
  private readonly capsIds = new Map<string, number>();
  private readonly capsById: Resources[] = [];
  /** Adds and removes since every module's side was last checked. */
  private changes = 0;
  /** The tie keys of every list of this index (the ids it has seen decide which characters they read). */
  private readonly ties = new TieOrder();
  /** What `planIndexed` ranks each job's offers with, one job after the other (its arrays are kept between jobs). */
  readonly ranking = new Ranking();

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

  /** What a job of `module` reads (undefined: no offer allows it). */
  view(module: string): ModuleView | undefined {
    const m = this.modules.get(module);
    if (!m) return undefined;
    return m.bit >= 0 ? { classes: this.shared.all, want: 1 << m.bit } : { classes: m.own!.all, want: 0 };
  }

  /** For inspection: whether `module` is read from the shared classes, and each class's offers of it, as the ranking reads them. */
  listed(module: string): { dense: boolean; classes: ResourceOfferRecord[][] } {
    const view = this.view(module);
    if (!view) return { dense: false, classes: [] };
    const classes = view.classes.map((c) => c.list.entries().flatMap((e) => (view.want === 0 || e.mask & view.want ? [e.rec] : [])));
    return { dense: view.want !== 0, classes: classes.filter((c) => c.length > 0) };
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
    if (this.ties.admit(rec.id)) this.rekey();
    this.byId.set(rec.id, rec);
    const provider = rec.offer.provider;
    const held = this.byProvider.get(provider);
    if (!held) this.byProvider.set(provider, rec);
    else if (Array.isArray(held)) held.push(rec);
    else this.byProvider.set(provider, [held, rec]);
    const capsId = this.capsIdOf(rec);
    const caps = this.capsById[capsId]!;
    const owed = this.owedBy(provider);
    const key = classKey(capsId, caps, owed);
    const p = Number(rec.offer.price);
    const modules = distinct(rec.offer.modules);
    const mediated = mediatedBit(rec);
    let mask = mediated;
    for (const module of modules) {
      let m = this.modules.get(module);
      if (!m) {
        m = { count: 0, bit: -1, own: newClasses() };
        this.modules.set(module, m);
      }
      m.count++;
      if (m.bit >= 0) mask |= 1 << m.bit;
      else {
        this.file(m.own!, rec, p, mediated, key, caps, owed);
        mask |= SPARSE_HINT;
      }
    }
    this.file(this.shared, rec, p, mask >>> 0, key, caps, owed);
    for (const module of modules) this.rebalance(module, this.modules.get(module)!);
    this.changed();
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
    const mask = this.unfile(this.shared, rec, p, key);
    for (const module of distinct(rec.offer.modules)) {
      const m = this.modules.get(module)!;
      if ((mask & SPARSE_HINT) !== 0 && m.bit < 0) this.unfile(m.own!, rec, p, key);
      if (--m.count > 0) continue;
      // Its last offer: the module, and its bit, are free (no slot has the bit any more).
      if (m.bit >= 0) this.bitOwners[m.bit] = undefined;
      this.modules.delete(module);
    }
    this.changed();
    return true;
  }

  /**
   * The provider now owes `used` to its active deals: its offers move to the class of that usage
   * (once in the shared classes, and in the classes of each sparse module they allow), where that
   * class differs (usage rounds to a level).
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
    // A new object already: owned as it is, not copied again.
    this.owe(provider, before, addResources(before, more), true);
  }

  /** `used` is kept as the provider's usage when `owned` (nobody else holds it), else a copy. */
  private owe(provider: Address, before: Resources, used: Resources, owned = false): void {
    const now = sameResources(used, NO_RESOURCES) ? NO_RESOURCES : owned ? used : resourcesOf(used);
    if (now === NO_RESOURCES) this.owed.delete(provider);
    else this.owed.set(provider, now);
    const held = this.byProvider.get(provider);
    if (held === undefined) return;
    if (Array.isArray(held)) for (const rec of held) this.move(rec, before, now);
    else this.move(held, before, now);
  }

  /** Move `rec` from its class at usage `before` to its class at `now`, in the shared classes and its sparse modules'. */
  private move(rec: Rec, before: Resources, now: Resources): void {
    const capsId = this.capsIdOf(rec);
    const caps = this.capsById[capsId]!;
    const from = classKey(capsId, caps, before);
    const to = classKey(capsId, caps, now);
    // An offer whose class is the same at the new usage stays where it is (usage rounds to a level).
    if (from === to) return;
    const p = Number(rec.offer.price);
    let mask = this.unfile(this.shared, rec, p, from);
    if ((mask & SPARSE_HINT) !== 0) {
      let sparse = false;
      for (const module of distinct(rec.offer.modules)) {
        const m = this.modules.get(module)!;
        if (m.bit >= 0) continue;
        sparse = true;
        this.unfile(m.own!, rec, p, from);
        this.file(m.own!, rec, p, mask & LISTS_MEDIATORS, to, caps, now);
      }
      // The hint outlived the module that set it (that module is dense now): the next move reads no module.
      if (!sparse) mask = (mask & ~SPARSE_HINT) >>> 0;
    }
    this.file(this.shared, rec, p, mask, to, caps, now);
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

  /** File `rec` (priced `p`, with `mask`) in `classes`, in its class `key` (of capacity `caps`, its provider owing `owed`, or that rounded down already when `floored`). */
  private file(classes: Classes, rec: Rec, p: number, mask: number, key: number, caps: Resources, owed: Resources, floored = false): void {
    let c = classes.byKey.get(key);
    if (!c) {
      const used = floored ? owed : usageFloor(caps, owed);
      c = {
        key,
        slot: classes.all.length,
        caps,
        used,
        exact: key % KEYS_PER_CAPS === IDLE,
        freeCpu: caps.cpu - used.cpu,
        freeMemoryMb: caps.memoryMb - used.memoryMb,
        freeGpu: caps.gpu - used.gpu,
        freeVramMb: caps.vramMb - used.vramMb,
        list: new SortedOffers(this.ties),
      };
      classes.byKey.set(key, c);
      classes.all.push(c);
    }
    c.list.insert(rec, p, mask);
  }

  /** Take `rec` (priced `p`) out of class `key` of `classes` (where `file` put it); returns its mask (-1: it was not there). */
  private unfile(classes: Classes, rec: Rec, p: number, key: number): number {
    const c = classes.byKey.get(key);
    if (!c) return -1;
    const mask = c.list.remove(rec, p);
    if (c.list.length > 0) return mask;
    classes.byKey.delete(c.key);
    const last = classes.all.pop()!;
    if (last !== c) {
      classes.all[c.slot] = last;
      last.slot = c.slot;
    }
    return mask;
  }

  /** Every list's tie keys made again: the ids now differ earlier than they did (rare: a few times as a book fills). */
  private rekey(): void {
    for (const c of this.shared.all) c.list.rekey();
    for (const m of this.modules.values()) if (m.own) for (const c of m.own.all) c.list.rekey();
  }

  private changed(): void {
    if (++this.changes < REBALANCE_EVERY) return;
    this.changes = 0;
    for (const [module, m] of this.modules) this.rebalance(module, m);
  }

  /**
   * Move `module` to the side its share of the offers calls for: dense (read from the shared
   * classes by its bit) from 1 in `DENSE_SHARE`, sparse (its own classes) below 1 in
   * `SPARSE_SHARE`. With every bit taken, a module that qualifies takes the bit of the least
   * allowed dense module when it is allowed by more than twice as many offers.
   */
  private rebalance(module: string, m: ModuleLists): void {
    const n = this.byId.size;
    if (m.bit >= 0) {
      if (m.count * SPARSE_SHARE < n) this.makeSparse(m);
      return;
    }
    if (m.count * DENSE_SHARE < n) return;
    let bit = this.bitOwners.indexOf(undefined);
    if (bit < 0) {
      let weakest: string | undefined;
      for (const owner of this.bitOwners) if (weakest === undefined || this.modules.get(owner!)!.count < this.modules.get(weakest)!.count) weakest = owner;
      const w = this.modules.get(weakest!)!;
      if (w.count * 2 >= m.count) return;
      bit = w.bit;
      this.makeSparse(w);
    }
    this.makeDense(module, m, bit);
  }

  /** Set `module`'s bit on its offers in the shared classes and drop its own classes. */
  private makeDense(module: string, m: ModuleLists, bit: number): void {
    const flag = 1 << bit;
    for (const c of m.own!.all) {
      const list = this.shared.byKey.get(c.key)!.list;
      for (const chunk of c.list.chunks) for (let i = 0; i < chunk.n; i++) list.markOne(chunk.items[i]!, chunk.keys[i]!, flag);
    }
    m.own = undefined;
    m.bit = bit;
    this.bitOwners[bit] = module;
  }

  /** Give `module` its own classes again, from the shared ones, and free its bit (cleared from every mask). */
  private makeSparse(m: ModuleLists): void {
    const flag = 1 << m.bit;
    const own = newClasses();
    for (const c of this.shared.all)
      for (const chunk of c.list.chunks) {
        const masks = chunk.masks!;
        for (let i = 0; i < chunk.n; i++) {
          if ((masks[i]! & flag) === 0) continue;
          masks[i] = ((masks[i]! & ~flag) | SPARSE_HINT) >>> 0;
          this.file(own, chunk.items[i]!, chunk.keys[i]!, masks[i]! & LISTS_MEDIATORS, c.key, c.caps, c.used, true);
        }
      }
    this.bitOwners[m.bit] = undefined;
    m.bit = -1;
    m.own = own;
  }
}

/**
 * A plan's escrow holds, read through to the book's (`base`) for a party the plan added none for,
 * without copying the book's per pass. Its own map is made only once the plan holds something: a
 * plan of one job that matches nothing (or a look-ahead) makes none. Holds no undefined values.
 */
class Overlay<K, V> implements Holds<K, V> {
  private own: Map<K, V> | undefined;
  private readonly base: ReadonlyMap<K, V>;
  constructor(base: ReadonlyMap<K, V>) {
    this.base = base;
  }
  get(key: K): V | undefined {
    const v = this.own?.get(key);
    return v !== undefined ? v : this.base.get(key);
  }
  set(key: K, value: V): this {
    this.own ??= new Map();
    this.own.set(key, value);
    return this;
  }
}

/** Whether the index may stand in for the naive scan: it prunes by module, price and free capacity, so those filters must be on. */
export function indexable(config: Pick<MatchConfig, "filters">): boolean {
  return rankingFilters(config.filters) !== undefined;
}

type FilterChains = Pick<PlanState, "filters" | "filtersIfNobodyExcluded" | "mediatorsIndexed">;
/**
 * A config's filters as the ranking runs them, worked out once per filter list (a solver has one;
 * a list is not changed once in use): undefined when not `indexable`.
 */
const chainsOf = new WeakMap<readonly FilterPlugin[], FilterChains | null>();
function rankingFilters(filters: readonly FilterPlugin[]): FilterChains | undefined {
  let chains = chainsOf.get(filters);
  if (chains === undefined) {
    const rank = filters.filter((f) => f !== moduleAllowed && f !== priceWithinBudget);
    chains = [moduleAllowed, priceWithinBudget, resourcesFree].every((f) => filters.includes(f))
      ? { filters: rank, filtersIfNobodyExcluded: rank.filter((f) => f !== notExcluded), mediatorsIndexed: filters.includes(mediatorAccepted) }
      : null;
    chainsOf.set(filters, chains);
  }
  return chains ?? undefined;
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
  const chains = rankingFilters(config.filters);
  if (!chains) {
    const plan = planMatches({ ...snapshot, offers: index.offers(), used: index.used }, config, now);
    if (!lookAhead) fillProposals(index, plan, snapshot);
    return plan;
  }
  const held = new Overlay(snapshot.held);
  const state: PlanState = { snapshot, held, now, excludesAny: hasKeys(snapshot.excluded), ...chains };
  const ranking = index.ranking;
  const plan: Plan = { proposals: [], rejections: new Map() };
  // Past `fullReasonsUpTo` a job's reasons are what planning met, so a job its creator's escrow
  // cannot back is refused as a whole, without evaluating any offer (the pick is the same: none).
  const jobSideFirst = index.size > fullReasonsUpTo;
  // What proposing needs, the same for every job of the plan: made once, not per job.
  const at = { snapshot, config, now, held };
  const use = lookAhead ? () => {} : (provider: Address, resources: Resources) => index.useMore(provider, resources);
  for (const job of snapshot.jobs) {
    const k = dealsPerJob(job.offer);
    const unbacked = jobSideFirst ? jobCreatorRejection(config.filters, job.offer, snapshot.escrow, held, snapshot.trustEscrow) : undefined;
    if (unbacked) {
      plan.rejections.set(job.id, { [JOB_REJECTION]: unbacked });
      continue;
    }
    const chosen = pickGroup(job.offer, ranking.start(index, job, config, state), k);
    // Made on the first reason: a job that meets none (most that match) keeps a plain empty object.
    let rejected = ranking.rejected;
    if (!chosen.group && index.size <= fullReasonsUpTo) {
      for (const offer of index.offers()) {
        const reason = firstRejection(config.filters, job, offer, contextFor(job, offer, snapshot, index.used, held, now));
        if (!reason) continue;
        rejected ??= keyedRecord();
        noteRejection(rejected, offer.offer.provider, reason);
      }
    }
    // A provider another of whose offers fits is not refused. (Only where some provider was: an
    // address used as a key is entered in V8's string table first, one for every provider that fits.
    // A record made on a reason has one, so being made says so: asking it with a for-in listed all
    // its keys, each time, one per provider refused.)
    if (rejected !== undefined) for (const f of ranking.fit) delete rejected[f.offer.provider];
    const reasons: Record<string, string> = rejected ?? {};
    plan.rejections.set(job.id, reasons);
    if (!chosen.group) {
      // All or none: a partial replica group could never open, so it holds no capacity either.
      if (k > 1) reasons[JOB_REJECTION] = chosen.why;
      continue;
    }
    proposeGroup(plan, job, chosen.group, at, use);
  }
  ranking.release();
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
