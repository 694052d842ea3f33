// Following deals on chain: the I/O around chainEndings.ts. Deal events (LilyDeals', and
// LilyTrustDeals' batch events for routed trust deals) are scanned from where
// the last scan stopped, in ranges; each range's events are applied in one transaction with the
// new cursor, so a crash loses neither an event nor the place to resume from. Then chain time
// (the last scanned block's timestamp) ends what can no longer happen. Either way capacity is
// freed and the caller matches again.
import type { Hex } from "viem";
import type { LilyClient } from "@lily/chain";
import type { Logger } from "@lily/node-kit";
import type { DealPatch, FollowedDeal, OrderBook } from "./orderBook.ts";
import type { SolverOptions } from "./options.ts";
import type { EndingPlan } from "./endings.ts";
import type { Publisher } from "./publisher.ts";
import { applyEndings } from "./applyEndings.ts";
import { applyFact, timeEndings } from "./chainEndings.ts";
import { scanDealEvents, sightingsOf, type ScannedEvent } from "./chain/dealEvents.ts";

export class ChainFollower {
  private readonly client: LilyClient;
  private readonly book: OrderBook;
  private readonly publisher: Publisher;
  private readonly opts: Pick<SolverOptions, "deployBlock" | "maxBlockRange">;
  private readonly logger: Logger;

  constructor(client: LilyClient, book: OrderBook, publisher: Publisher, opts: Pick<SolverOptions, "deployBlock" | "maxBlockRange">, logger: Logger) {
    this.client = client;
    this.book = book;
    this.publisher = publisher;
    this.opts = opts;
    this.logger = logger;
  }

  /** Apply every deal event up to the latest block, then what that block's time has ended. */
  async follow(): Promise<void> {
    const latest = await this.client.publicClient.getBlock({ blockTag: "latest" });
    const to = Number(latest.number);
    for (let from = (this.book.lastScannedBlock() ?? this.opts.deployBlock - 1) + 1; from <= to; ) {
      const end = Math.min(to, from + this.opts.maxBlockRange - 1);
      this.apply(await scanDealEvents(this.client, from, end), end);
      from = end + 1;
    }
    this.endByTime(latest.timestamp);
  }

  private apply(events: readonly ScannedEvent[], toBlock: number): void {
    const touched = new Set<Hex>();
    const plans: EndingPlan[] = [];
    this.book.atomically(() => {
      // A trust batch's deals are found in the book as it is now, in the transaction that applies them.
      for (const s of sightingsOf(events, this.book)) {
        const current = this.book.getFollowedDeal(s.dealId);
        if (!current) continue; // another solver's deal, or one proposed directly between the parties
        const update = applyFact(current, s);
        if (!update) continue;
        this.book.setOnChain(s.dealId, update.onChain);
        const patch: DealPatch = {};
        if (update.openTx && !current.deal.openTx) patch.openTx = update.openTx;
        // The book holds one live deal per job offer and provider; a revived deal yields to one proposed since.
        if (update.status && !(current.deal.status === "rejected" && this.book.hasOtherLiveDeal(current.deal))) patch.status = update.status;
        if (Object.keys(patch).length > 0) {
          this.book.updateDeal(s.dealId, patch);
          touched.add(s.dealId);
        }
        if (update.ending) plans.push(applyEndings(this.book, [update.ending]));
        this.logger.info("deal event applied", {
          id: s.dealId,
          event: s.event,
          from: current.deal.status,
          to: patch.status ?? update.ending?.status,
          block: s.blockNumber,
        });
      }
      this.book.setScannedBlock(toBlock);
    });
    for (const id of touched) this.publisher.jobOffer(this.publisher.deal(id).jobOfferId);
    for (const plan of plans) this.publisher.endings(plan);
  }

  private endByTime(chainNow: bigint): void {
    // In slices of whole job offers (a group's deals end together), each its own transaction: a
    // restart may find thousands of deals past their openBy, and one transaction for all of them
    // held every ending's reads and writes at once (100+ MiB for 12k). A crash between slices
    // loses nothing: the deals not yet ended are still due at the next follow.
    for (const due of byJobOffer(this.book.dealsDueBy(chainNow), ENDINGS_PER_TRANSACTION)) {
      const { endings, plan } = this.book.atomically(() => {
        const endings = timeEndings(due, chainNow);
        return { endings, plan: endings.length > 0 ? applyEndings(this.book, endings) : undefined };
      });
      for (const e of endings) this.logger.info("deal ended by chain time", { id: e.deal.id, status: e.status, error: e.error });
      if (plan) this.publisher.endings(plan);
    }
  }
}

/** Deals ended by chain time per transaction (whole job offers, so a slice may hold a few more). */
const ENDINGS_PER_TRANSACTION = 500;

/** `deals` in slices of about `size`, each job offer's deals within one slice. */
function* byJobOffer(deals: readonly FollowedDeal[], size: number): Generator<FollowedDeal[]> {
  const ofJob = new Map<Hex, FollowedDeal[]>();
  for (const d of deals) {
    const list = ofJob.get(d.deal.jobOfferId);
    if (list) list.push(d);
    else ofJob.set(d.deal.jobOfferId, [d]);
  }
  let slice: FollowedDeal[] = [];
  for (const list of ofJob.values()) {
    slice.push(...list);
    if (slice.length >= size) {
      yield slice;
      slice = [];
    }
  }
  if (slice.length > 0) yield slice;
}
