// Matching as the solver runs it: read the escrow of the parties on the book from the chain, then
// compute (planMatches, pure) and commit (one transaction) and publish. Passes run one at a time
// and a burst of requests shares one pass (Coalescer). The dry run reads the same way and stores
// nothing.
import type { Address, Hex } from "viem";
import { hashRecord, type Domain, type JobOffer } from "@lily/protocol";
import type { Logger } from "@lily/node-kit";
import type { OrderBook } from "./orderBook.ts";
import type { Publisher } from "./publisher.ts";
import type { EscrowReader } from "./chain/escrowReader.ts";
import { Coalescer } from "./coalescer.ts";
import { planMatches, type MatchConfig } from "./matcher/match.ts";
import { explainJob, type Explanation } from "./matcher/explain.ts";

const seconds = (ms: number) => Math.floor(ms / 1000);

export interface MatchingDeps {
  book: OrderBook;
  escrow: EscrowReader;
  publisher: Publisher;
  logger: Logger;
  domain: Domain;
  config: MatchConfig;
}

export class Matching {
  private readonly passes = new Coalescer(() => this.pass());
  private readonly deps: MatchingDeps;

  constructor(deps: MatchingDeps) {
    this.deps = deps;
  }

  /** Match every open job offer against the active resource offers; resolves when a pass that saw every change so far is done. */
  rematch(): Promise<void> {
    return this.passes.run();
  }

  /** What matching would do with `offer` now, from the same filters and balances, storing nothing. */
  async explain(offer: JobOffer): Promise<Explanation> {
    const { book, escrow, domain, config } = this.deps;
    const parties = unique([offer.jobCreator, ...book.activeResourceOffers().map((o) => o.offer.provider)]);
    const balances = await escrow.read(parties);
    const id = hashRecord(domain, "JobOffer", offer);
    return explainJob({ id, offer }, book.snapshot(balances), config, seconds(Date.now()));
  }

  private async pass(): Promise<void> {
    const { book, escrow, publisher, logger, domain, config } = this.deps;
    const parties = book.matchingParties();
    // Balances come in with the snapshot, so the plan stays a pure function of it. A party that
    // joined the book after this read counts as unfunded in this pass; its own post runs the next.
    const balances = parties.length > 0 ? await escrow.read(parties) : new Map<Address, bigint>();
    const now = Date.now();
    const changedJobs = new Set<Hex>();
    const proposed: Hex[] = [];
    book.atomically(() => {
      for (const id of book.expireJobOffers(seconds(now))) changedJobs.add(id);
      const snapshot = book.snapshot(balances, seconds(now));
      const plan = planMatches(snapshot, config, seconds(now));
      const jobs = new Map(snapshot.jobs.map((j) => [j.id, j]));
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
      for (const [jobId, rejections] of Object.entries(plan.rejections) as [Hex, Record<string, string>][]) {
        if (book.setMatching(jobId, rejections, dealsOf.get(jobId))) changedJobs.add(jobId);
      }
    });
    for (const id of proposed) {
      const deal = publisher.deal(id);
      logger.info("deal proposed", { id, jobOffer: deal.jobOfferId, provider: deal.deal.provider, price: deal.deal.price, openBy: deal.deal.openBy });
    }
    for (const id of changedJobs) publisher.jobOffer(id);
  }
}

const unique = (list: readonly Address[]) => [...new Map(list.map((a) => [a.toLowerCase(), a])).values()];
