// What a provider checks before signing a deal the solver proposes. Every term must be the one
// its own resource offer and the job creator's signed job offer give (protocol's checkDealTerms:
// one derivation for the solver that proposes and both parties that sign), and then what only
// the provider knows: that the resource offer is its own and still current, that it allows the
// module, that the job fits in what its other deals leave free, that it will not be locked in for
// longer than it agreed to, and that the job can run at all: the module and every input are
// fetched and checked now, so it never signs a job it could be slashed for not running.
import { isAddressEqual, zeroAddress, type Address, type Hex } from "viem";
import {
  LilyError,
  checkDealTerms,
  hashRecord,
  isLilyError,
  verifyRecord,
  type DealRecord,
  type Domain,
  type ErrorCode,
  type JobOfferRecord,
  type ResourceOffer,
} from "@lily/protocol";
import { loadJob, type JobSource, type LoadedJob, type LoadJobOptions } from "@lily/executor";
import { NO_RESOURCES, resourcesOf, shortfall, type Resources } from "./resources.ts";
import type { PricedModule } from "./pricing.ts";

export interface ProposalContext {
  domain: Domain;
  me: Address;
  /** The resource offers this provider made, by id (lower-case hex). */
  offers: ReadonlyMap<string, ResourceOffer>;
  /** Everything this provider offers. */
  capacity: Resources;
  /** What its other signed, opened and running deals hold (see heldCapacity). */
  held: Resources;
  /** At most this many deals held at once, and how many its other deals hold (see heldDeals). */
  maxJobs?: number;
  heldJobs?: number;
  /**
   * The modules this provider offers now, by manifest CID, with their prices (pricing.ts). Absent:
   * the resource offer's list alone decides.
   */
  offered?: ReadonlyMap<string, PricedModule>;
  maxOpenDelaySeconds: number;
  maxJobSeconds: number;
  /** Unix seconds. */
  now: number;
  /** Where the module and inputs come from (the store, through the job cache). */
  source: JobSource;
  /** What makes a container module's image present (absent: container modules are declined). */
  executors?: LoadJobOptions;
}

export type Verdict =
  /** Sign: the deal's id (recomputed here) and the job, fetched and checked. */
  | { sign: true; id: Hex; job: Extract<LoadedJob, { ok: true }> }
  /**
   * Decline, for the reason given (a code and the field at fault). `busy`: only capacity its own
   * deals hold right now is short, which may free in a moment (a result being committed).
   */
  | { sign: false; decline: LilyError; busy?: true };

/**
 * Decide whether to sign `record` for `job`. Returns a decline for anything wrong with the
 * proposal; throws only when it could not decide (a store or peer that did not answer), for the
 * caller to try again.
 */
export async function checkProposal(ctx: ProposalContext, record: DealRecord, job: JobOfferRecord): Promise<Verdict> {
  const decline = (code: ErrorCode, field: string, message: string): Verdict => ({
    sign: false,
    decline: new LilyError({ code, field, message: `${field}: ${message}` }),
  });
  const d = record.deal;
  const id = hashRecord(ctx.domain, "Deal", d);
  // REJECT: the record's id must be the digest of its terms (else the provider would follow another deal on chain)
  if (id !== record.id.toLowerCase()) return decline("CONFLICT", "id", `${record.id} is not the id of the terms proposed (${id})`);
  // REJECT: the deal must name this provider
  if (!isAddressEqual(d.provider, ctx.me)) return decline("CONFLICT", "deal.provider", `the deal is for ${d.provider}, not this provider`);
  const mine = ctx.offers.get(d.resourceOffer.toLowerCase());
  // REJECT: the resource offer must be one this provider made, and not expired
  if (!mine) return decline("CONFLICT", "deal.resourceOffer", `${d.resourceOffer} is not a resource offer this provider made`);
  if (mine.expiresAt <= BigInt(ctx.now)) return decline("CONFLICT", "deal.resourceOffer", `resource offer ${d.resourceOffer} expired at ${mine.expiresAt}`);
  // REJECT: every term must be the one the two offers give; openBy within how long this provider holds itself ready
  const jobRef = { id: hashRecord(ctx.domain, "JobOffer", job.offer), offer: job.offer };
  const terms = checkDealTerms(
    d,
    jobRef,
    { id: d.resourceOffer, offer: mine },
    {
      now: ctx.now,
      maxOpenDelaySeconds: ctx.maxOpenDelaySeconds,
      ...(record.group && { group: record.group }),
    },
  );
  if (terms) return decline("CONFLICT", terms.field, terms.reason);
  // REJECT: the job offer must carry its job creator's signature, exactly as the contracts would accept it
  try {
    await verifyRecord(ctx.domain, "JobOffer", job.offer, job.signature, { field: "jobOffer.signature" });
  } catch (e) {
    if (isLilyError(e, "BAD_SIGNATURE")) return { sign: false, decline: e };
    throw e;
  }
  // REJECT: no job longer than this provider agreed to lock its collateral for
  if (job.offer.timeoutSeconds > BigInt(ctx.maxJobSeconds)) {
    return decline("CONFLICT", "jobOffer.timeoutSeconds", `${job.offer.timeoutSeconds}s is longer than this provider's limit of ${ctx.maxJobSeconds}s`);
  }
  // REJECT: only modules this provider allows
  if (!mine.modules.includes(job.offer.module)) return decline("MODULE_NOT_ALLOWED", "module", `module ${job.offer.module} is not allowed by this provider`);
  // REJECT: an offer made before the provider's lists changed does not bring back a module it no longer offers
  const offered = ctx.offered?.get(job.offer.module);
  if (ctx.offered && !offered) return decline("MODULE_NOT_ALLOWED", "module", `module ${job.offer.module} is no longer offered by this provider`);
  // REJECT: a module priced by its resource-seconds runs for no longer, and on no more, than its price was computed for
  if (offered?.from.kind === "rates") {
    const priced = offered.module.resources;
    const over = (["cpu", "memoryMb", "gpu"] as const).find((k) => job.offer[k] > priced[k]);
    if (job.offer.timeoutSeconds > BigInt(priced.timeoutSeconds)) {
      return decline(
        "CONFLICT",
        "jobOffer.timeoutSeconds",
        `${job.offer.timeoutSeconds}s is longer than the ${priced.timeoutSeconds}s the module's price covers`,
      );
    }
    if (over) return decline("CONFLICT", `jobOffer.${over}`, `the job asks for ${job.offer[over]}, the module's price covers ${priced[over]}`);
  }
  // REJECT: the job must fit the offer, and what the provider's other deals leave of its capacity
  const need = resourcesOf(job.offer);
  const overOffer = shortfall(need, NO_RESOURCES, resourcesOf(mine));
  if (overOffer) return decline("CONFLICT", `jobOffer.${overOffer}`, `the job needs ${need[overOffer]}, the resource offer has ${mine[overOffer]}`);
  // REJECT: no more deals held at once than the provider's maxConcurrentJobs
  if (ctx.maxJobs !== undefined && (ctx.heldJobs ?? 0) >= ctx.maxJobs) {
    const message = `maxConcurrentJobs: this provider's deals already hold ${ctx.heldJobs} of at most ${ctx.maxJobs} jobs`;
    return { sign: false, busy: true, decline: new LilyError({ code: "CONFLICT", field: "maxConcurrentJobs", message }) };
  }
  const over = shortfall(need, ctx.held, ctx.capacity);
  if (over) {
    const field = `jobOffer.${over}`;
    const message = `${field}: the job needs ${need[over]}, but ${ctx.capacity[over] - ctx.held[over]} of ${ctx.capacity[over]} is free`;
    return { sign: false, busy: true, decline: new LilyError({ code: "CONFLICT", field, message }) };
  }
  // REJECT: the module and every input must be retrievable and valid now (else the provider could be slashed for a job it cannot run)
  let loaded: LoadedJob;
  try {
    loaded = await loadJob(ctx.source, { module: job.offer.module, inputs: job.offer.inputs }, ctx.executors);
  } catch (e) {
    // REJECT: a container module where this provider has no Docker engine (or its image does not check out)
    if (isLilyError(e, "EXECUTOR_UNAVAILABLE") || isLilyError(e, "IMAGE_MISMATCH")) return decline(e.code, "module.executor", e.message);
    // No store has the module, or it is not a module manifest: nobody can run this job.
    if (isLilyError(e, "NOT_FOUND") || isLilyError(e, "INVALID_INPUT")) return decline("UNKNOWN_MODULE", "module", e.message);
    throw e;
  }
  // (the failure's message already names its field)
  if (!loaded.ok) return { sign: false, decline: new LilyError({ code: "INVALID_INPUT", field: loaded.failure.field, message: loaded.failure.message }) };
  // REJECT: the royalty must be the module's own (else the provider's pay could be diverted)
  const manifest = loaded.manifest;
  if (!isAddressEqual(job.offer.moduleCreator, manifest.creator ?? zeroAddress) || job.offer.royaltyBps !== manifest.royaltyBps) {
    return decline(
      "CONFLICT",
      "deal.royaltyBps",
      `royalty terms differ from the module's manifest: ${job.offer.royaltyBps} bps to ${job.offer.moduleCreator}, not ${manifest.royaltyBps} bps to ${manifest.creator ?? zeroAddress}`,
    );
  }
  return { sign: true, id, job: loaded };
}
