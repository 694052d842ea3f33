// The solver's operations: take signed offers, match them, and follow the deals it proposed.
// Each operation checks its input, writes in one transaction, then publishes what changed.
// The solver holds no key: every record it keeps was signed by the party it binds, and every
// signature is checked against the terms stored when the deal was proposed.
import { isAddressEqual, type Address, type Hex } from "viem";
import {
  LilyError,
  hashRecord,
  verifyRecord,
  policyName,
  NO_TX_HASH,
  type DealRecord,
  type JobOfferRecord,
  type ResourceOfferRecord,
  type SignedJobOffer,
  type SignedResourceOffer,
  type SignedResult,
  type SignedDealProgress,
} from "@lily/protocol";
import type { LilyEvent } from "@lily/api";
import type { Logger } from "@lily/node-kit";
import type { SolverOptions } from "./options.ts";
import type { DealPatch, OrderBook } from "./orderBook.ts";
import { assertTransition } from "./dealTransitions.ts";
import { planMatches, type MatchConfig } from "./matcher/match.ts";
import { planEndings, type Ending, type EndingPlan } from "./endings.ts";
import { defaultFilters } from "./matcher/filters.ts";
import { defaultScores } from "./matcher/scores.ts";

export interface SolverDeps {
  logger: Logger;
  book: OrderBook;
  publish(ev: LilyEvent): void;
  /** Defaults to the default filter and score plugins. */
  matcher?: Pick<MatchConfig, "filters" | "scores">;
}

/** How far ahead of the solver's clock a provider's report may be dated (clock skew), in seconds. */
export const PROGRESS_MAX_AHEAD_SECONDS = 600;

const seconds = (ms: number) => Math.floor(ms / 1000);

export class Solver {
  private readonly opts: SolverOptions;
  private readonly deps: SolverDeps;
  private readonly book: OrderBook;
  private readonly config: MatchConfig;

  constructor(opts: SolverOptions, deps: SolverDeps) {
    this.opts = opts;
    this.deps = deps;
    this.book = deps.book;
    this.config = { filters: defaultFilters, scores: defaultScores, ...deps.matcher, signWindowSeconds: opts.signWindowSeconds };
  }

  async postResourceOffer({ offer, signature }: SignedResourceOffer): Promise<ResourceOfferRecord> {
    // REJECT: a resource offer must be signed by the provider it names
    await verifyRecord(this.opts.domain, "ResourceOffer", offer, signature);
    rejectExpired(offer.expiresAt);
    const id = hashRecord(this.opts.domain, "ResourceOffer", offer);
    const known = this.book.getResourceOffer(id);
    if (known) return known;
    const highest = this.book.highestResourceOfferNonce(offer.provider);
    // REJECT: a replayed older offer must not displace the provider's newer one
    if (highest !== undefined && offer.nonce <= highest) {
      throw new LilyError({
        code: "CONFLICT",
        field: "offer.nonce",
        message: `offer.nonce: ${offer.nonce} is not above this provider's latest nonce ${highest}`,
        hint: "sign a new offer with a higher nonce",
      });
    }
    this.book.atomically(() => this.book.addResourceOffer({ id, offer, signature, active: true, createdAt: Date.now() }));
    this.deps.logger.info("resource offer added", { id, provider: offer.provider, price: offer.price });
    this.rematch();
    return this.book.getResourceOffer(id)!;
  }

  async postJobOffer({ offer, signature }: SignedJobOffer): Promise<JobOfferRecord> {
    // REJECT: a job offer must be signed by the job creator it names
    await verifyRecord(this.opts.domain, "JobOffer", offer, signature);
    rejectExpired(offer.expiresAt);
    // REJECT: a policy the contracts cannot settle would never open
    if (policyName(offer.policy) === undefined) {
      throw new LilyError({ code: "INVALID_INPUT", field: "offer.policy", message: `offer.policy: unknown verification policy ${offer.policy}` });
    }
    const id = hashRecord(this.opts.domain, "JobOffer", offer);
    if (!this.book.getJobOffer(id)) {
      this.book.atomically(() => this.book.addJobOffer({ id, offer, signature, status: "open", dealIds: [], rejections: {}, createdAt: Date.now() }));
      this.deps.logger.info("job offer added", { id, jobCreator: offer.jobCreator, module: offer.module });
      this.publishJobOffer(id);
      this.rematch();
    }
    return this.book.getJobOffer(id)!;
  }

  getJobOffer(id: Hex): JobOfferRecord {
    return this.book.getJobOffer(id) ?? notFound("job offer", id);
  }

  getDeal(id: Hex): DealRecord {
    return this.book.getDeal(id) ?? notFound("deal", id);
  }

  async signDeal(id: Hex, signer: Address, signature: Hex): Promise<DealRecord> {
    const { deal } = this.getDeal(id);
    const party = isAddressEqual(signer, deal.jobCreator) ? "jobCreator" : isAddressEqual(signer, deal.provider) ? "provider" : undefined;
    // REJECT: only the two parties to a deal may sign it
    if (!party) throw new LilyError({ code: "BAD_SIGNATURE", field: "signer", message: `signer: ${signer} is neither the job creator nor the provider of deal ${id}` });
    // REJECT: the signature must be by that party over exactly the stored terms, in canonical (low-s) form
    await verifyRecord(this.opts.domain, "Deal", deal, signature, { signer, field: "signature" });
    const current = this.getDeal(id); // re-read: another request may have run during verification
    const key = party === "jobCreator" ? "jobCreatorSignature" : "providerSignature";
    const existing = current[key];
    if (existing?.toLowerCase() === signature.toLowerCase()) return current;
    // REJECT: a party signs a deal once
    if (existing) throw new LilyError({ code: "CONFLICT", field: "signature", message: `signature: the ${party} already signed deal ${id} with another signature` });
    // REJECT: only a proposed deal can be signed; a dropped or declined one is final
    if (current.status !== "proposed") throw new LilyError({ code: "CONFLICT", field: "status", message: `status: deal ${id} is ${current.status}, not proposed` });
    const other = party === "jobCreator" ? current.providerSignature : current.jobCreatorSignature;
    this.book.atomically(() => this.book.updateDeal(id, { [key]: signature, ...(other ? { status: "signed" as const } : {}) }));
    this.deps.logger.info("deal signed", { id, party, signed: Boolean(other) });
    return this.publishDeal(id);
  }

  /**
   * Apply a status report signed by the deal's provider. Only that provider can end its deal
   * (and so be excluded from the job offer); reports are ordered by their signed `at`.
   */
  async setDealStatus(id: Hex, { progress, signature }: SignedDealProgress): Promise<DealRecord> {
    const { deal: terms } = this.getDeal(id);
    // REJECT: a report names the deal it is posted to (a report for one deal cannot end another)
    if (progress.dealId !== id) throw new LilyError({ code: "INVALID_INPUT", field: "progress.dealId", message: `progress.dealId: ${progress.dealId} is not deal ${id}` });
    // REJECT: only the deal's provider can report its progress (not the job creator, another provider or a stranger)
    await verifyRecord(this.opts.domain, "DealProgress", progress, signature, { signer: terms.provider, field: "signature" });
    // REJECT: the report names the deal's provider (its signature alone does not make another address the reporter)
    if (!isAddressEqual(progress.provider, terms.provider)) {
      throw new LilyError({ code: "INVALID_INPUT", field: "progress.provider", message: `progress.provider: ${progress.provider} is not the provider of deal ${id}` });
    }
    const { status, at } = progress;
    const txHash = progress.txHash === NO_TX_HASH ? undefined : progress.txHash;
    const error = progress.error === "" ? undefined : progress.error;
    // REJECT: a report dated further ahead than clock skew explains would outrank every later one
    const latest = BigInt(seconds(Date.now()) + PROGRESS_MAX_AHEAD_SECONDS);
    if (at > latest) throw new LilyError({ code: "INVALID_INPUT", field: "progress.at", message: `progress.at: ${at} is more than ${PROGRESS_MAX_AHEAD_SECONDS}s in the future` });
    const current = this.getDeal(id); // re-read: another request may have run during verification
    const last = current.progress?.progress.at;
    // REJECT: a replayed report older than the last one accepted cannot move the deal (backwards or at all)
    if (last !== undefined && at < last) {
      throw new LilyError({
        code: "CONFLICT",
        field: "progress.at",
        message: `progress.at: ${at} is older than the last report accepted for deal ${id} (${last})`,
        hint: "sign a new report",
      });
    }
    if (current.status === status) return current; // a retried report changes nothing
    // REJECT: an opened deal names the transaction that opened it
    if (status === "opened" && !txHash) throw new LilyError({ code: "INVALID_INPUT", field: "progress.txHash", message: "progress.txHash: required when a deal is opened" });
    assertTransition(current.status, status);
    const report: DealPatch = { progress: { progress, signature }, ...(txHash && { openTx: txHash }) };
    if (status !== "rejected" && status !== "timed-out") {
      this.book.atomically(() => this.book.updateDeal(id, { status, error, ...report }));
      this.deps.logger.info("deal progressed", { id, from: current.status, to: status });
      return this.publishDeal(id);
    }
    const provider = current.deal.provider;
    const exclude = status === "rejected" ? `rejected deal ${id}${error ? `: ${error}` : ""}` : `timed out on deal ${id}`;
    const ending: Ending = { deal: current, status, error, why: `provider ${provider} ${exclude}`, exclude };
    const plan = this.book.atomically(() => this.applyEndings([ending], { id, patch: report }));
    this.deps.logger.info("deal progressed", { id, from: current.status, to: status });
    const deal = this.publishDeal(id);
    this.publishEndings(plan, id);
    this.rematch();
    return deal;
  }

  async postResult(id: Hex, signed: SignedResult): Promise<DealRecord> {
    const { result, signature } = signed;
    const { deal } = this.getDeal(id);
    // REJECT: a result names the deal it is posted to
    if (result.dealId !== id) throw new LilyError({ code: "INVALID_INPUT", field: "result.dealId", message: `result.dealId: ${result.dealId} is not deal ${id}` });
    // REJECT: only the deal's provider can post its result
    if (!isAddressEqual(result.provider, deal.provider)) {
      throw new LilyError({ code: "INVALID_INPUT", field: "result.provider", message: `result.provider: ${result.provider} is not the provider of deal ${id}` });
    }
    await verifyRecord(this.opts.domain, "Result", result, signature, { signer: deal.provider, field: "signature" });
    const current = this.getDeal(id);
    if (current.status === "committed") {
      if (current.result?.result.result === result.result && current.result.result.exitCode === result.exitCode) return current;
      throw new LilyError({ code: "CONFLICT", field: "result", message: `result: deal ${id} already committed a different result` });
    }
    assertTransition(current.status, "committed");
    this.book.atomically(() => this.book.updateDeal(id, { status: "committed", result: signed }));
    this.deps.logger.info("result committed", { id, result: result.result, exitCode: result.exitCode });
    return this.publishDeal(id);
  }

  /** Match every open job offer against the active resource offers: compute, then commit. */
  rematch(): void {
    const now = Date.now();
    const changedJobs = new Set<Hex>();
    const proposed: Hex[] = [];
    this.book.atomically(() => {
      for (const id of this.book.expireJobOffers(seconds(now))) changedJobs.add(id);
      const snapshot = this.book.snapshot();
      const plan = planMatches(snapshot, this.config, seconds(now));
      const jobs = new Map(snapshot.jobs.map((j) => [j.id, j]));
      const dealsOf = new Map<Hex, Hex[]>();
      for (const p of plan.proposals) {
        const { offer } = jobs.get(p.jobOfferId)!;
        const id = hashRecord(this.opts.domain, "Deal", p.terms);
        const { jobOfferId, resourceOfferId, terms } = p;
        this.book.addDeal({ id, deal: terms, jobOfferId, resourceOfferId, module: offer.module, inputs: offer.inputs, status: "proposed", updatedAt: now }, now);
        dealsOf.set(jobOfferId, [...(dealsOf.get(jobOfferId) ?? []), id]);
        proposed.push(id);
      }
      for (const [jobId, rejections] of Object.entries(plan.rejections) as [Hex, Record<string, string>][]) {
        if (this.book.setMatching(jobId, rejections, dealsOf.get(jobId))) changedJobs.add(jobId);
      }
    });
    for (const id of proposed) {
      const deal = this.publishDeal(id);
      this.deps.logger.info("deal proposed", { id, jobOffer: deal.jobOfferId, provider: deal.deal.provider, price: deal.deal.price });
    }
    for (const id of changedJobs) this.publishJobOffer(id);
  }

  /**
   * Drop proposals not signed by both parties within the sign window (excluding the provider
   * from that job only if it was the one that did not sign, and breaking a replica group none of
   * whose replicas has opened), retire expired resource offers, then re-match.
   */
  sweep(): void {
    const now = Date.now();
    const window = this.opts.signWindowSeconds;
    const { stale, plan } = this.book.atomically(() => {
      const stale = this.book.unsignedProposalsBefore(now - window * 1000);
      const endings = stale.map((deal): Ending => {
        const missing = [deal.jobCreatorSignature ? undefined : "job creator", deal.providerSignature ? undefined : "provider"].filter(Boolean).join(" and the ");
        const error = `not signed within ${window}s by the ${missing}`;
        const exclude = deal.providerSignature ? undefined : `did not sign deal ${deal.id} within ${window}s`;
        return { deal, status: "rejected", error, why: `deal ${deal.id} ${error}`, ...(exclude && { exclude }) };
      });
      const plan = this.applyEndings(endings, undefined, now);
      this.book.deactivateExpiredResourceOffers(seconds(now));
      return { stale, plan };
    });
    for (const deal of stale) this.deps.logger.info("unsigned proposal dropped", { id: deal.id, provider: deal.deal.provider });
    this.publishEndings(plan);
    this.rematch();
  }

  /** Inside a transaction: plan what ending these deals does (pure), then write it all (`report` on its deal too). */
  private applyEndings(endings: readonly Ending[], report?: { id: Hex; patch: DealPatch }, now = Date.now()): EndingPlan {
    const groups = new Map(endings.map((e) => [e.deal.jobOfferId, this.book.dealsOfJobOffer(e.deal.jobOfferId)] as const));
    const plan = planEndings(endings, groups);
    for (const d of plan.deals) {
      this.book.updateDeal(d.id, { status: d.status, error: d.error, ...(report?.id === d.id && report.patch) }, now);
    }
    for (const x of plan.exclusions) this.book.exclude(x.jobOfferId, x.provider, x.reason);
    for (const r of plan.reopen) this.book.reopenJobOffer(r.jobOfferId, r.dealId);
    return plan;
  }

  /** Publish every deal an ending changed (but `published`, already sent) and their job offers. */
  private publishEndings(plan: EndingPlan, published?: Hex): void {
    const jobs = new Set<Hex>();
    for (const d of plan.deals) {
      if (d.brokenBy) this.deps.logger.info("replica dropped with its group", { id: d.id, brokenBy: d.brokenBy });
      const record = d.id === published ? this.getDeal(d.id) : this.publishDeal(d.id);
      jobs.add(record.jobOfferId);
    }
    for (const id of jobs) this.publishJobOffer(id);
  }

  private publishDeal(id: Hex): DealRecord {
    const record = this.getDeal(id);
    this.deps.publish({ type: "deal", record });
    return record;
  }

  private publishJobOffer(id: Hex): void {
    this.deps.publish({ type: "job-offer", record: this.getJobOffer(id) });
  }
}

function rejectExpired(expiresAt: bigint): void {
  // REJECT: an offer that has already expired can never be matched
  if (expiresAt <= BigInt(seconds(Date.now()))) {
    throw new LilyError({ code: "INVALID_INPUT", field: "offer.expiresAt", message: `offer.expiresAt: ${expiresAt} is in the past` });
  }
}

function notFound(what: string, id: Hex): never {
  throw new LilyError({ code: "NOT_FOUND", field: "id", message: `no ${what} ${id}` });
}
