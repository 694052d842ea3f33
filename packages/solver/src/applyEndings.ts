// Ending deals, inside a transaction: plan what it does to the rest of the book (a pure step,
// endings.ts), then write all of it: the deals' new statuses (a report on its own deal too),
// exclusions, job offers reopened or abandoned, resource offers taken off the book.
import type { Hex } from "viem";
import type { DealPatch, OrderBook } from "./orderBook.ts";
import { planEndings, type Ending, type EndingPlan } from "./endings.ts";

export function applyEndings(book: OrderBook, endings: readonly Ending[], now = Date.now(), report?: { id: Hex; patch: DealPatch }): EndingPlan {
  const groups = new Map(endings.map((e) => [e.deal.jobOfferId, book.dealsOfJobOffer(e.deal.jobOfferId)] as const));
  const plan = planEndings(endings, groups);
  for (const d of plan.deals) book.updateDeal(d.id, { status: d.status, error: d.error, ...(report?.id === d.id && report.patch) }, now);
  for (const x of plan.exclusions) book.exclude(x.jobOfferId, x.provider, x.reason);
  for (const r of plan.reopen) book.reopenJobOffer(r.jobOfferId, r.dealId);
  for (const id of plan.abandon) book.endJobOffer(id, "abandoned");
  for (const provider of plan.deactivate) book.deactivateProvider(provider);
  return plan;
}
