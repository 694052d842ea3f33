// The solver's operations: take signed offers, match them, follow the deals it proposed. Each
// operation checks its input (the signature before any work that grows with the book), writes in
// one transaction, then publishes what changed. The solver holds no key: every record it keeps was
// signed by the party it binds, and the chain, which it only reads, has the last word on deals.
import { isAddressEqual, type Address, type Hex } from "viem";
import {
  LilyError,
  hashRecord,
  verifyRecord,
  NO_TX_HASH,
  type DealRecord,
  type JobOffer,
  type JobOfferRecord,
  type ResourceOfferRecord,
  type SignedCancelJobOffer,
  type SignedJobOffer,
  type SignedResourceOffer,
  type SignedResult,
  type SignedDealProgress,
} from "@lily/protocol";
import type { LilyEvent } from "@lily/api";
import { onTrustDeals, verifyDealSignature, type LilyClient } from "@lily/chain";
import type { Logger } from "@lily/node-kit";
import type { SolverOptions } from "./options.ts";
import type { DealPatch, OrderBook } from "./orderBook.ts";
import { assertTransition } from "./dealTransitions.ts";
import type { MatchConfig } from "./matcher/match.ts";
import type { Ending } from "./endings.ts";
import type { Explanation } from "./matcher/explain.ts";
import { defaultFilters } from "./matcher/filters.ts";
import { defaultScores } from "./matcher/scores.ts";
import { applyEndings } from "./applyEndings.ts";
import { Publisher } from "./publisher.ts";
import { Matching, type MatchScope } from "./matching.ts";
import { ChainFollower } from "./chainFollower.ts";
import { EscrowReader } from "./chain/escrowReader.ts";
import { checkJobOffer, checkResourceOffer } from "./offerChecks.ts";
import { cancelJobOffer } from "./cancel.ts";

export interface SolverDeps {
  logger: Logger;
  book: OrderBook;
  publish(ev: LilyEvent): void;
  /** Read-only access to the deployment the solver serves: escrow balances, chain time, deal events. */
  chain: LilyClient;
  /** Defaults to the default filter and score plugins. */
  matcher?: Pick<MatchConfig, "filters" | "scores">;
}

/** How far ahead of the solver's clock a provider's report may be dated (clock skew), in seconds. */
export const PROGRESS_MAX_AHEAD_SECONDS = 600;

const seconds = (ms: number) => Math.floor(ms / 1000);

export class Solver {
  private readonly opts: SolverOptions;
  private readonly book: OrderBook;
  private readonly logger: Logger;
  private readonly publisher: Publisher;
  private readonly matching: Matching;
  private readonly follower: ChainFollower;
  /** Where deals go on chain (dealRoute.ts): the domain's LilyDeals, and LilyTrustDeals when the chain client names it. */
  private readonly route: { chainId: number; deals: Address; trustDeals?: Address };

  constructor(opts: SolverOptions, deps: SolverDeps) {
    this.opts = opts;
    this.book = deps.book;
    this.logger = deps.logger;
    this.publisher = new Publisher(deps.book, deps.publish, deps.logger);
    const { trustDeals } = deps.chain.addresses;
    // REJECT: signatures and escrow must take the same route, or a routed deal's parties sign one form and are backed by the other escrow
    if ((trustDeals !== undefined) !== deps.book.trustDeals) {
      throw new LilyError({
        code: "CONFIG",
        field: "trustDeals",
        message: `trustDeals: the chain client ${trustDeals ? `names LilyTrustDeals ${trustDeals}` : "names no LilyTrustDeals"} but the order book was opened ${deps.book.trustDeals ? "with" : "without"} trust deals`,
      });
    }
    this.route = { chainId: opts.domain.chainId, deals: opts.domain.verifyingContract, ...(trustDeals && { trustDeals }) };
    const config: MatchConfig = { filters: defaultFilters, scores: defaultScores, ...deps.matcher, signWindowSeconds: opts.signWindowSeconds };
    this.matching = new Matching({
      book: deps.book,
      escrow: new EscrowReader(deps.chain),
      publisher: this.publisher,
      logger: deps.logger,
      domain: opts.domain,
      config,
    });
    this.follower = new ChainFollower(deps.chain, deps.book, this.publisher, opts, deps.logger);
  }

  async postResourceOffer({ offer, signature }: SignedResourceOffer): Promise<ResourceOfferRecord> {
    // REJECT: a resource offer must be signed by the provider it names
    await verifyRecord(this.opts.domain, "ResourceOffer", offer, signature);
    checkResourceOffer(offer, this.opts, seconds(Date.now()));
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
    const record: ResourceOfferRecord = { id, offer, signature, active: true, createdAt: Date.now() };
    this.book.atomically(() => this.book.addResourceOffer(record));
    this.logger.info("resource offer added", { id, provider: offer.provider, price: offer.price });
    await this.rematch({ offers: [record] }); // only the waiting jobs it could serve

    return this.book.getResourceOffer(id)!;
  }

  getResourceOffer(id: Hex): ResourceOfferRecord {
    return this.book.getResourceOffer(id) ?? notFound("resource offer", id);
  }

  async postJobOffer({ offer, signature }: SignedJobOffer): Promise<JobOfferRecord> {
    // REJECT: a job offer must be signed by the job creator it names
    await verifyRecord(this.opts.domain, "JobOffer", offer, signature);
    checkJobOffer(offer, this.opts, seconds(Date.now()));
    const id = hashRecord(this.opts.domain, "JobOffer", offer);
    if (!this.book.getJobOffer(id)) {
      this.book.atomically(() => this.book.addJobOffer({ id, offer, signature, status: "open", dealIds: [], rejections: {}, createdAt: Date.now() }));
      this.logger.info("job offer added", { id, jobCreator: offer.jobCreator, module: offer.module });
      this.publisher.jobOffer(id);
    }
    // A repeated post of an offer still open waits for the pass that matches it too (passes coalesce).
    if (this.book.getJobOffer(id)!.status === "open") await this.rematch({ jobs: [id] }); // this job against the index
    return this.book.getJobOffer(id)!;
  }

  getJobOffer(id: Hex): JobOfferRecord {
    return this.book.getJobOffer(id) ?? notFound("job offer", id);
  }

  /** The job creator withdraws its job offer: see cancel.ts. */
  async cancelJobOffer(id: Hex, signed: SignedCancelJobOffer): Promise<JobOfferRecord> {
    const changed = await cancelJobOffer(this.book, this.opts.domain, id, signed);
    if (changed) {
      this.logger.info("job offer cancelled by its job creator", { id, dropped: changed.dropped });
      for (const d of changed.dropped) this.publisher.deal(d);
      this.publisher.jobOffer(id);
      if (changed.dropped.length > 0) await this.rematch();
    }
    return this.getJobOffer(id);
  }

  /**
   * The dry run: how this job offer would match now, checked as a post would be but not signed, and
   * stored nowhere. `firstFit`: the check before posting, answered by the index's pick alone when
   * some provider would take the job now (see `Matching.firstFit`).
   */
  async explainJobOffer(offer: JobOffer, { firstFit = false }: { firstFit?: boolean } = {}): Promise<Explanation> {
    checkJobOffer(offer, this.opts, seconds(Date.now()));
    return firstFit ? this.matching.firstFit(offer) : this.matching.explain(offer);
  }

  getDeal(id: Hex): DealRecord {
    return this.book.getDeal(id) ?? notFound("deal", id);
  }

  /**
   * A party's signature on a proposed deal. On a deal routed to LilyTrustDeals the provider signs
   * first, under a nonce it picks (`trustNonce`, kept with its signature and never changed after);
   * the job creator then signs the same TrustDeal.
   */
  async signDeal(id: Hex, signer: Address, signature: Hex, trustNonce?: bigint): Promise<DealRecord> {
    const proposed = this.getDeal(id);
    const { deal } = proposed;
    const party = isAddressEqual(signer, deal.jobCreator) ? "jobCreator" : isAddressEqual(signer, deal.provider) ? "provider" : undefined;
    // REJECT: only the two parties to a deal may sign it
    if (!party)
      throw new LilyError({ code: "BAD_SIGNATURE", field: "signer", message: `signer: ${signer} is neither the job creator nor the provider of deal ${id}` });
    const routed = onTrustDeals(this.route, deal);
    const nonce = routed ? signedNonce(proposed, party, trustNonce) : undefined;
    // REJECT: the signature must be by that party over exactly the stored terms, in the form the contract accepts
    // (a routed trust deal's is its TrustDeal under LilyTrustDeals: a Deal-form one could open nothing)
    await verifyDealSignature(this.route, { dealId: id, deal, trustNonce: nonce }, signature, { signer, field: "signature" });
    const current = this.getDeal(id); // re-read: another request may have run during verification
    const key = party === "jobCreator" ? "jobCreatorSignature" : "providerSignature";
    const existing = current[key];
    if (existing?.toLowerCase() === signature.toLowerCase()) return current;
    // REJECT: a party signs a deal once (a provider that signs again under another nonce signs another TrustDeal)
    if (existing)
      throw new LilyError({ code: "CONFLICT", field: "signature", message: `signature: the ${party} already signed deal ${id} with another signature` });
    // REJECT: only a proposed deal can be signed; a dropped or declined one is final
    if (current.status !== "proposed")
      throw new LilyError({ code: "CONFLICT", field: "status", message: `status: deal ${id} is ${current.status}, not proposed` });
    // REJECT: a signature after openBy comes too late to open the deal, and must not make the other party look at fault
    if (BigInt(seconds(Date.now())) > deal.openBy) {
      throw new LilyError({
        code: "CONFLICT",
        field: "deal.openBy",
        message: `deal.openBy: deal ${id} could only be opened until ${deal.openBy}`,
        hint: "the job offer is matched again",
      });
    }
    const other = party === "jobCreator" ? current.providerSignature : current.jobCreatorSignature;
    this.book.atomically(() => {
      this.book.updateDeal(id, { [key]: signature, ...(other ? { status: "signed" as const } : {}) });
      if (routed && party === "provider") this.book.setTrustNonce(current, nonce!);
    });
    this.logger.info("deal signed", { id, party, signed: Boolean(other), ...(nonce !== undefined && { trustNonce: nonce }) });
    return this.publisher.deal(id);
  }

  /**
   * Apply a status report signed by the deal's provider. Only that provider can end its deal
   * (and so be excluded from the job offer); reports are ordered by their signed `at`. Reports
   * are the provider's word; the chain's events and time overrule them (chainFollower.ts).
   */
  async setDealStatus(id: Hex, { progress, signature }: SignedDealProgress): Promise<DealRecord> {
    const { deal: terms } = this.getDeal(id);
    // REJECT: a report names the deal it is posted to (a report for one deal cannot end another)
    if (progress.dealId !== id)
      throw new LilyError({ code: "INVALID_INPUT", field: "progress.dealId", message: `progress.dealId: ${progress.dealId} is not deal ${id}` });
    // REJECT: only the deal's provider can report its progress (not the job creator, another provider or a stranger)
    await verifyRecord(this.opts.domain, "DealProgress", progress, signature, { signer: terms.provider, field: "signature" });
    // REJECT: the report names the deal's provider (its signature alone does not make another address the reporter)
    if (!isAddressEqual(progress.provider, terms.provider)) {
      throw new LilyError({
        code: "INVALID_INPUT",
        field: "progress.provider",
        message: `progress.provider: ${progress.provider} is not the provider of deal ${id}`,
      });
    }
    const { status, at } = progress;
    const txHash = progress.txHash === NO_TX_HASH ? undefined : progress.txHash;
    const error = progress.error === "" ? undefined : progress.error;
    // REJECT: a report dated further ahead than clock skew explains would outrank every later one
    const latest = BigInt(seconds(Date.now()) + PROGRESS_MAX_AHEAD_SECONDS);
    if (at > latest)
      throw new LilyError({
        code: "INVALID_INPUT",
        field: "progress.at",
        message: `progress.at: ${at} is more than ${PROGRESS_MAX_AHEAD_SECONDS}s in the future`,
      });
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
    // REJECT: an opened deal names the transaction that opened it, also when its first report says it already runs
    if (!txHash && (status === "opened" || (status === "running" && current.status === "signed")))
      throw new LilyError({
        code: "INVALID_INPUT",
        field: "progress.txHash",
        message: `progress.txHash: required when a ${current.status} deal is reported ${status}`,
      });
    assertTransition(current.status, status);
    // The chain's word on the opening (chainFollower.ts) outranks the provider's.
    const report: DealPatch = { progress: { progress, signature }, ...(txHash && !current.openTx && { openTx: txHash }) };
    if (status !== "rejected" && status !== "timed-out") {
      this.book.atomically(() => this.book.updateDeal(id, { status, error, ...report }));
      this.logger.info("deal progressed", { id, from: current.status, to: status });
      return this.publisher.deal(id);
    }
    const provider = current.deal.provider;
    const exclude = status === "rejected" ? `rejected deal ${id}${error ? `: ${error}` : ""}` : `timed out on deal ${id}`;
    const ending: Ending = { deal: current, status, error, why: `provider ${provider} ${exclude}`, exclude };
    const plan = this.book.atomically(() => applyEndings(this.book, [ending], Date.now(), { id, patch: report }));
    this.logger.info("deal progressed", { id, from: current.status, to: status });
    const deal = this.publisher.deal(id);
    this.publisher.endings(plan, id);
    await this.rematch();
    return deal;
  }

  async postResult(id: Hex, signed: SignedResult): Promise<DealRecord> {
    const { result, signature } = signed;
    const { deal } = this.getDeal(id);
    // REJECT: a result names the deal it is posted to
    if (result.dealId !== id)
      throw new LilyError({ code: "INVALID_INPUT", field: "result.dealId", message: `result.dealId: ${result.dealId} is not deal ${id}` });
    // REJECT: only the deal's provider can post its result
    if (!isAddressEqual(result.provider, deal.provider)) {
      throw new LilyError({
        code: "INVALID_INPUT",
        field: "result.provider",
        message: `result.provider: ${result.provider} is not the provider of deal ${id}`,
      });
    }
    await verifyRecord(this.opts.domain, "Result", result, signature, { signer: deal.provider, field: "signature" });
    const current = this.getDeal(id);
    if (current.status === "committed") {
      const known = current.result?.result;
      if (known?.result === result.result && known.exitCode === result.exitCode) return current;
      // REJECT: a deal keeps the first result its provider signed
      if (known) throw new LilyError({ code: "CONFLICT", field: "result", message: `result: deal ${id} already committed a different result` });
      // The chain showed the commitment first; this is the provider's signed record of it.
    } else {
      assertTransition(current.status, "committed");
    }
    this.book.atomically(() => this.book.updateDeal(id, { status: "committed", result: signed }));
    this.logger.info("result committed", { id, result: result.result, exitCode: result.exitCode });
    const record = this.publisher.deal(id);
    await this.rematch(); // a committed deal no longer holds its provider's capacity
    return record;
  }

  /** Match the open job offers `scope` concerns (default: every one) now (errors are logged: the offers stay on the book for the next pass). */
  async rematch(scope: MatchScope = "all"): Promise<void> {
    await this.matching.rematch(scope).catch((e) => this.logger.error("matching failed", { err: e }));
  }

  /**
   * Follow the chain (deal events, then what chain time has ended: deals not opened by their
   * openBy, deals past their deadline with no result), retire expired resource offers, then
   * match again with whatever capacity that freed: every open job, if anything changed since the
   * last whole pass (see matching.ts).
   */
  async sweep(): Promise<void> {
    await this.follower.follow().catch((e) => this.logger.error("following the chain failed", { err: e }));
    this.book.atomically(() => this.book.deactivateExpiredResourceOffers(seconds(Date.now())));
    await this.rematch("sweep");
  }
}

function notFound(what: string, id: Hex): never {
  throw new LilyError({ code: "NOT_FOUND", field: "id", message: `no ${what} ${id}` });
}

/**
 * The nonce a party's signature on a routed trust deal is over: the provider's own pick, posted
 * with its signature; for the job creator, the one its provider signed (it signs second).
 */
function signedNonce(proposed: DealRecord, party: "jobCreator" | "provider", posted: bigint | undefined): bigint {
  if (party === "provider") {
    // REJECT: a routed deal's provider names the nonce its TrustDeal signature is over
    if (posted === undefined)
      throw new LilyError({
        code: "INVALID_INPUT",
        field: "trustNonce",
        message: `trustNonce: deal ${proposed.id} opens on LilyTrustDeals: the provider posts the nonce it signed under`,
      });
    return posted;
  }
  // REJECT: the job creator signs the provider's TrustDeal, so the provider signs first
  if (proposed.trustNonce === undefined)
    throw new LilyError({
      code: "CONFLICT",
      field: "providerSignature",
      message: `providerSignature: deal ${proposed.id} has no provider signature (and nonce) yet to sign against`,
    });
  // REJECT: a job creator's nonce other than the provider's is a signature over another TrustDeal
  if (posted !== undefined && posted !== proposed.trustNonce)
    throw new LilyError({
      code: "CONFLICT",
      field: "trustNonce",
      message: `trustNonce: deal ${proposed.id} was signed by its provider under nonce ${proposed.trustNonce}, not ${posted}`,
    });
  return proposed.trustNonce;
}
