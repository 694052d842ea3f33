// Telling subscribers what changed: every deal and job offer a write touched goes out on the
// event hub after its transaction committed, read back from the book as it now stands.
import type { Hex } from "viem";
import type { DealRecord } from "@lily/protocol";
import type { LilyEvent } from "@lily/api";
import type { Logger } from "@lily/node-kit";
import type { OrderBook } from "./orderBook.ts";
import type { EndingPlan } from "./endings.ts";

export class Publisher {
  private readonly book: OrderBook;
  private readonly publish: (ev: LilyEvent) => void;
  private readonly logger: Logger;

  constructor(book: OrderBook, publish: (ev: LilyEvent) => void, logger: Logger) {
    this.book = book;
    this.publish = publish;
    this.logger = logger;
  }

  deal(id: Hex): DealRecord {
    const record = this.book.getDeal(id)!;
    this.publish({ type: "deal", record });
    return record;
  }

  jobOffer(id: Hex): void {
    const record = this.book.getJobOffer(id);
    if (record) this.publish({ type: "job-offer", record });
  }

  /** Every deal an ending changed (but `published`, already sent), then their job offers. */
  endings(plan: EndingPlan, published?: Hex): void {
    const jobs = new Set<Hex>();
    for (const d of plan.deals) {
      if (d.brokenBy) this.logger.info("replica dropped with its group", { id: d.id, brokenBy: d.brokenBy });
      const record = d.id === published ? this.book.getDeal(d.id)! : this.deal(d.id);
      jobs.add(record.jobOfferId);
    }
    for (const id of plan.abandon) this.logger.info("job offer abandoned by its job creator", { id });
    for (const provider of plan.deactivate) this.logger.info("resource offer deactivated: its provider did not sign", { provider });
    for (const id of jobs) this.jobOffer(id);
  }
}
