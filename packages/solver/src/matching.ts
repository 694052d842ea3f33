// Matching as the solver runs it: read the escrow of the parties concerned from the chain, then
// compute (`planIndexed`, pure given its inputs) and commit (one transaction) and publish. Passes
// run one at a time and a burst of requests shares one pass (Coalescer). The dry run reads the
// same way and stores nothing.
//
// Work follows what changed. The active resource offers live in the book's `OfferIndex`, updated
// by each write (never rebuilt per pass), and a pass says what it is for:
//   - a new job offer: that job alone, against the index;
//   - a new resource offer: only the waiting jobs it could serve (its modules, within their
//     budget, capacity enough), each against the index;
//   - anything else (capacity or escrow freed, a job re-opened): every open job;
//   - the sweep: every open job, but only if something could have changed a waiting job's outcome
//     since the last whole pass (`wholePassDue`): a new block (escrow), a write of the book that
//     frees or changes what it offers (`OrderBook.generation`), time ending a hold, or a pass that
//     left work behind. Else it only expires the job offers past their expiry: an idle solver
//     with thousands of waiting jobs plans nothing, second after second.
// Escrow is read only for the parties planning actually evaluates (see `pass`), not for every
// provider on the book.
// While the book is small (at most `fullPassUpTo` offers) every pass is a whole one, so the
// rejections kept on each job name every provider, as the naive scan's did; past it they name
// the providers the index evaluated, and the dry run (`explain`) gives any job's full reasons on
// demand. Capacity and escrow that free up without an event reach waiting jobs at the next sweep.
import type { Hex } from "viem";
import { hashRecord, type Domain, type JobOffer, type JobOfferRecord, type ResourceOfferRecord } from "@lily/protocol";
import type { Logger } from "@lily/node-kit";
import type { OrderBook } from "./orderBook.ts";
import type { Publisher } from "./publisher.ts";
import type { EscrowReader } from "./chain/escrowReader.ts";
import { Coalescer } from "./coalescer.ts";
import type { MatchConfig, Plan } from "./matcher/match.ts";
import { candidateOf, explainJob, type Explanation } from "./matcher/explain.ts";
import { fillProposals, indexable, planIndexed } from "./matcher/offerIndex.ts";
import { RESOURCE_KEYS } from "./matcher/resources.ts";
import { backingKey, trustBacked, type BackingKey } from "./matcher/backing.ts";

const seconds = (ms: number) => Math.floor(ms / 1000);

export interface MatchingDeps {
  book: OrderBook;
  /** `sync` gives the block it moved to (EscrowReader's); anything else: unknown, so every sweep plans. */
  escrow: Pick<EscrowReader, "read" | "peek"> & { sync(): Promise<unknown> };
  publisher: Publisher;
  logger: Logger;
  domain: Domain;
  config: MatchConfig;
  /** Up to this many active offers every pass is a whole one (full rejections, as the naive scan); default 1,000. */
  fullPassUpTo?: number;
}

/** What a pass is for: every open job offer, every one if anything changed since the last whole pass (the sweep), or only these job offers and the waiting jobs these new resource offers could serve. */
export type MatchScope = "all" | "sweep" | { jobs?: readonly Hex[]; offers?: readonly ResourceOfferRecord[] };

/** What the last whole pass saw: the book's generation, the block its escrow was read at, and the second its holdings stood until. */
interface WholePass {
  generation: number;
  block: bigint | undefined;
  until: number;
}

interface Pending {
  all: boolean;
  sweep: boolean;
  jobs: Set<Hex>;
  offers: ResourceOfferRecord[];
}
const nothingPending = (): Pending => ({ all: false, sweep: false, jobs: new Set(), offers: [] });

export class Matching {
  private readonly passes = new Coalescer(() => this.pass());
  private readonly deps: MatchingDeps;
  /** What the next pass is for: the scopes of every request that joined it. */
  private pending = nothingPending();
  /** Undefined: none yet, or a pass since left work to the sweep (it failed, or planned without some balance). */
  private whole: WholePass | undefined;

  constructor(deps: MatchingDeps) {
    this.deps = deps;
  }

  /** Match the open job offers `scope` concerns (default: all); resolves when a pass that saw every change so far is done. */
  rematch(scope: MatchScope = "all"): Promise<void> {
    if (scope === "all") this.pending.all = true;
    else if (scope === "sweep") this.pending.sweep = true;
    else {
      for (const id of scope.jobs ?? []) this.pending.jobs.add(id);
      this.pending.offers.push(...(scope.offers ?? []));
    }
    return this.passes.run();
  }

  /** What matching would do with `offer` now, from the same filters and balances, storing nothing (every offer is read: the reasons on demand). */
  async explain(offer: JobOffer): Promise<Explanation> {
    const { book, escrow, domain, config } = this.deps;
    const offers = book.offerIndex().offers();
    const trust = trustBacked(book.trustDeals, offer);
    const parties = unique([offer.jobCreator, ...offers.map((o) => o.offer.provider)].map((p) => backingKey(p, trust)));
    const balances = await escrow.read(parties);
    const id = hashRecord(domain, "JobOffer", offer);
    const now = seconds(Date.now());
    return explainJob({ id, offer }, { ...book.usage(now), jobs: [], offers, escrow: balances }, config, now);
  }

  /**
   * The check before a job offer is posted: would some provider take it now? When one would, the
   * index's pick is the answer (nothing to explain, and no reason for every other provider:
   * work proportional to the pick, as a pass's); only a job nothing would take now gets the full
   * dry run, whose `matchable` says whether waiting could change that. A pick passes every filter,
   * so the dry run would have said `matchable` too: posting decides the same either way.
   */
  async firstFit(offer: JobOffer): Promise<Explanation> {
    const { book, escrow, domain, config } = this.deps;
    if (!indexable(config)) return this.explain(offer);
    const id = hashRecord(domain, "JobOffer", offer);
    const index = book.offerIndex();
    // Planned as a pass plans one job (its look-ahead is its plan), with no signature, status or
    // history: only the id and the offer are read. Nothing is stored and the index is left as it was.
    const job = { id, offer, status: "open", dealIds: [], rejections: {}, createdAt: Date.now() } as unknown as JobOfferRecord;
    const known = new Map<string, bigint>();
    await escrow.sync();
    for (let round = 1; round < ESCROW_ROUNDS; round++) {
      const now = seconds(Date.now());
      const missing = new Map<string, BackingKey>();
      const balances = new Balances(known, (a) => escrow.peek(a), missing, ASSUMED_FUNDED);
      const snapshot = { ...book.usage(now, [id]), jobs: [job], escrow: balances };
      const plan = planIndexed(index, snapshot, config, now, { fullReasonsUpTo: 0, lookAhead: true });
      if (missing.size > 0) {
        await this.readEscrow(missing, known);
        continue;
      }
      if (plan.proposals.length === 0) break;
      return { rejections: {}, candidates: plan.proposals.map((p) => candidateOf(index.get(p.resourceOfferId)!)), matchable: true };
    }
    return this.explain(offer);
  }

  /** The ids of the job offers this pass is for (those still open are matched); undefined: every open job offer. */
  private jobsInScope(scope: Pending): Set<Hex> | undefined {
    const { book, config, fullPassUpTo = 1_000 } = this.deps;
    if (scope.all || book.offerIndex().size <= fullPassUpTo || !indexable(config)) return undefined;
    const jobs = scope.offers.length > 0 ? book.openJobOffers().filter((j) => scope.offers.some((o) => couldServe(o, j))) : [];
    return new Set([...jobs.map((j) => j.id), ...scope.jobs]);
  }

  private async pass(): Promise<void> {
    const scope = this.pending;
    this.pending = nothingPending();
    try {
      if (scope.sweep && !scope.all) scope.all = await this.wholePassDue();
      if (scope.sweep && !scope.all && scope.jobs.size === 0 && scope.offers.length === 0) return this.idleSweep();
      await this.plan(scope);
    } catch (e) {
      this.whole = undefined; // what this pass was for is left to the next sweep
      throw e;
    }
  }

  /** Whether anything could change a waiting job's outcome since the last whole pass (when in doubt, yes). */
  private async wholePassDue(): Promise<boolean> {
    const { book, escrow } = this.deps;
    const last = this.whole;
    if (!last || book.generation !== last.generation || seconds(Date.now()) > last.until) return true;
    if (!book.hasOpenJobOffers()) return true; // nothing to plan: a whole pass costs nothing
    const block = blockOf(await escrow.sync());
    return block === undefined || block !== last.block;
  }

  /** A sweep with nothing to re-plan: only the job offers past their expiry end. */
  private idleSweep(): void {
    const { book, publisher, logger } = this.deps;
    const expired = book.atomically(() => book.expireJobOffers(seconds(Date.now())));
    for (const id of expired) publisher.jobOffer(id);
    logger.debug("sweep: nothing changed since the last whole pass, no re-plan", { block: this.whole?.block, expired: expired.length });
  }

  private async plan(scope: Pending): Promise<void> {
    const { book, escrow, publisher, logger, config, fullPassUpTo = 1_000 } = this.deps;
    const ids = this.jobsInScope(scope);
    const changedJobs = new Set<Hex>();
    const proposed: Hex[] = [];
    // Escrow is read as planning finds it needs it: a round plans with the balances read so far,
    // counting a party not read yet as funded (so it ranks where it would if it were) and noting
    // it; its balance is read and the round runs again. A round that needed no balance it lacked
    // is the plan, and it is persisted in the same tick (no await between: nothing else ran), so
    // it is a pure function of the book and true balances. Only the parties of the pairs planning
    // evaluated are read, not every provider on the book. Past `ESCROW_ROUNDS`, an unread party
    // counts as unfunded (never a deal nobody backs; its own post, or the sweep, matches it).
    // Rounds plan as a look-ahead (the index left as it is, so a thrown-away round costs no moving
    // of offers between classes) until one lacks nothing; then a round plans for real, unless
    // the pass has one job, whose look-ahead is its plan (`fillProposals`).
    const known = new Map<string, bigint>();
    let lookAhead = true;
    let block: bigint | undefined;
    // Balances already read at the chain's current block need no read again (one call to check it).
    if (ids ? ids.size > 0 : book.hasOpenJobOffers()) {
      block = blockOf(await escrow.sync());
      // For many jobs, their creators first, in one read: a job its creator's escrow cannot back
      // is refused before any offer is evaluated (jobCreatorRejection), so it costs no provider's
      // read. (One job reads its creator with its pick's provider: one round trip, not two.)
      const all = ids
        ? ids.size > 1
          ? book.openJobOffersAmong(ids).map((j) => backingKey(j.offer.jobCreator, trustBacked(book.trustDeals, j.offer)))
          : []
        : book.openJobCreators();
      const creators = new Map<string, BackingKey>();
      for (const c of all) if (escrow.peek(c) === undefined) creators.set(c.toLowerCase(), c);
      if (creators.size > 0) await this.readEscrow(creators, known);
    }
    for (let round = 1; ; round++) {
      const now = Date.now();
      // A job offer past its expiry is not planned; the transaction below marks it expired.
      const open = (ids ? book.openJobOffersAmong(ids) : book.openJobOffers()).filter((j) => j.offer.expiresAt > BigInt(seconds(now)));
      const jobs = new Map(open.map((j) => [j.id, j]));
      const missing = new Map<string, BackingKey>();
      const last = round >= ESCROW_ROUNDS;
      if (last) lookAhead = false;
      const balances = new Balances(known, (a) => escrow.peek(a), missing, last ? 0n : ASSUMED_FUNDED);
      const snapshot = { ...book.usage(seconds(now), ids && [...jobs.keys()]), jobs: [...jobs.values()], escrow: balances };
      const until = book.holdingsUntil();
      const plan =
        jobs.size > 0
          ? planIndexed(book.offerIndex(), snapshot, config, seconds(now), { fullReasonsUpTo: fullPassUpTo, lookAhead })
          : { proposals: [], rejections: new Map() };
      if (missing.size > 0 && !last) {
        await this.readEscrow(missing, known);
        continue;
      }
      if (lookAhead && jobs.size > 1) {
        lookAhead = false; // every balance it needed is known: plan again, for real
        continue;
      }
      if (lookAhead) fillProposals(book.offerIndex(), plan, snapshot);
      book.atomically(() => {
        for (const id of book.expireJobOffers(seconds(now))) changedJobs.add(id);
        this.persist(plan, jobs, now, changedJobs, proposed);
      });
      // In the same tick as the plan: a write after it counts as a change for the next sweep. A
      // round that went without some balance may have refused a job it could match: the sweep's.
      if (last && missing.size > 0) this.whole = undefined;
      else if (!ids) this.whole = { generation: book.generation, block, until };
      break;
    }
    for (const id of proposed) {
      const deal = publisher.deal(id);
      logger.info("deal proposed", { id, jobOffer: deal.jobOfferId, provider: deal.deal.provider, price: deal.deal.price, openBy: deal.deal.openBy });
    }
    for (const id of changedJobs) publisher.jobOffer(id);
  }

  /** Read the balances a planning round found missing into `known` (by lowercase address). */
  private async readEscrow(missing: ReadonlyMap<string, BackingKey>, known: Map<string, bigint>): Promise<void> {
    const read = await this.deps.escrow.read([...missing.values()]);
    for (const [party, balance] of read) known.set(party.toLowerCase(), balance);
  }

  /** Store a plan: its deals as `proposed`, its job offers `matched` or their rejections updated. */
  private persist(plan: Plan, jobs: ReadonlyMap<Hex, JobOfferRecord>, now: number, changedJobs: Set<Hex>, proposed: Hex[]): void {
    const { book, domain } = this.deps;
    const dealsOf = new Map<Hex, Hex[]>();
    for (const { jobOfferId, resourceOfferId, terms, group } of plan.proposals) {
      const { offer } = jobs.get(jobOfferId)!;
      const id = hashRecord(domain, "Deal", terms);
      book.addDeal(
        {
          id,
          deal: terms,
          jobOfferId,
          resourceOfferId,
          module: offer.module,
          inputs: offer.inputs,
          status: "proposed",
          updatedAt: now,
          ...(group && { group }),
        },
        now,
      );
      dealsOf.set(jobOfferId, [...(dealsOf.get(jobOfferId) ?? []), id]);
      proposed.push(id);
    }
    for (const [jobId, rejections] of plan.rejections) {
      if (book.setMatching(jobId, rejections, dealsOf.get(jobId))) changedJobs.add(jobId);
    }
  }
}

/** Planning rounds that may read escrow they found missing (see `pass`). */
const ESCROW_ROUNDS = 6;
/** What a party not read yet counts as while a round explores: more than any deal locks. */
const ASSUMED_FUNDED = 2n ** 255n;

/** Escrow balances, by party and escrow (`backingKey`), as far as read (this pass's reads by lowercase key, then the reader's at this block); a party not read yet is noted in `missing` and counts as `unread`. */
class Balances extends Map<BackingKey, bigint> {
  private readonly known: ReadonlyMap<string, bigint>;
  private readonly peek: (party: BackingKey) => bigint | undefined;
  private readonly missing: Map<string, BackingKey>;
  private readonly unread: bigint;
  constructor(known: ReadonlyMap<string, bigint>, peek: (party: BackingKey) => bigint | undefined, missing: Map<string, BackingKey>, unread: bigint) {
    super();
    this.known = known;
    this.peek = peek;
    this.missing = missing;
    this.unread = unread;
  }
  override get(party: BackingKey): bigint {
    const key = party.toLowerCase();
    const balance = this.known.get(key) ?? this.peek(party);
    if (balance !== undefined) return balance;
    this.missing.set(key, party);
    return this.unread;
  }
}

/** Whether `offer` passes the filters the index prunes by for `job`: its module, within budget, capacity enough. */
const couldServe = (offer: ResourceOfferRecord, job: JobOfferRecord) =>
  offer.offer.modules.includes(job.offer.module) && offer.offer.price <= job.offer.maxPrice && RESOURCE_KEYS.every((k) => job.offer[k] <= offer.offer[k]);

const blockOf = (synced: unknown) => (typeof synced === "bigint" ? synced : undefined);

const unique = (list: readonly BackingKey[]) => [...new Map(list.map((a) => [a.toLowerCase(), a])).values()];
