// Rows of the order book back into records. Records are stored in their wire form; an offer is
// immutable once stored (its id is its digest), so each is parsed once and kept: a sweep every
// second re-reads the whole open book, and must not re-validate every offer each time.
//
// A resource offer row is read back without the wire schema: it was validated (and its addresses
// normalized) before the book stored it, and a restarted solver reads 100k of them, where checking
// every module CID and re-checksumming every address again took most of the reload. Strings many
// offers repeat (module CIDs, mediators) are interned: one copy each, not one per offer.
import type { Hex } from "viem";
import type * as z from "zod";
import { JobOffer, JobOfferStatus, type DealRecord, type JobOfferRecord, type ResourceOffer, type ResourceOfferRecord } from "@lily/protocol";

export type Row = Record<string, string | number | null>;

/**
 * Parsed offers by id; cleared whole when it grows past `max` (a book that large re-parses,
 * correctly). An offer that leaves the book is `forget`-ten, so what stays is about the open book:
 * `max` is well above the 100k open offers a solver is sized for (each entry shares its parsed
 * offer with the offer index, so it costs a map slot, not a copy).
 */
export class OfferCache {
  private readonly parsed = new Map<string, unknown>();
  private readonly max: number;

  constructor(max = 250_000) {
    this.max = max;
  }

  forget(id: string): void {
    this.parsed.delete(id);
  }

  /** Keep an offer the book is storing as it was given (already validated): reading it back parses nothing. */
  put(id: string, offer: unknown): void {
    if (this.parsed.size >= this.max) this.parsed.clear();
    this.parsed.set(id, offer);
  }

  /** A stored resource offer, parsed once without re-validation (see the header). */
  resource(id: string, text: string): ResourceOffer {
    let v = this.parsed.get(id) as ResourceOffer | undefined;
    if (v === undefined) {
      if (this.parsed.size >= this.max) this.parsed.clear();
      v = storedResourceOffer(text);
      this.parsed.set(id, v);
    }
    return v;
  }

  get<S extends z.ZodType>(id: string, text: string, schema: S): z.output<S> {
    let v = this.parsed.get(id) as z.output<S> | undefined;
    if (v === undefined) {
      if (this.parsed.size >= this.max) this.parsed.clear();
      v = schema.parse(JSON.parse(text));
      this.parsed.set(id, v);
    }
    return v;
  }
}

/** Strings shared by many offers, one copy each; bounded (cleared whole past `MAX_INTERNED`, which only costs copies). */
const interned = new Map<string, string>();
const MAX_INTERNED = 100_000;
export function intern(s: string): string {
  const known = interned.get(s);
  if (known !== undefined) return known;
  if (interned.size >= MAX_INTERNED) interned.clear();
  interned.set(s, s);
  return s;
}

/** A resource offer as the book stored it (`toWire` of a parsed offer), back in its parsed shape. */
export function storedResourceOffer(text: string): ResourceOffer {
  const w = JSON.parse(text) as Record<keyof ResourceOffer, never>;
  return {
    provider: w.provider,
    cpu: w.cpu,
    memoryMb: w.memoryMb,
    gpu: w.gpu,
    vramMb: w.vramMb,
    price: BigInt(w.price),
    collateral: BigInt(w.collateral),
    modules: (w.modules as string[]).map(intern),
    mediators: (w.mediators as ResourceOffer["mediators"]).map((m) => intern(m) as typeof m),
    expiresAt: BigInt(w.expiresAt),
    nonce: BigInt(w.nonce),
  };
}

export function toResourceOffer(row: Row, cache: OfferCache): ResourceOfferRecord {
  return {
    id: row.id as ResourceOfferRecord["id"],
    offer: cache.resource(row.id as string, row.offer as string),
    signature: row.signature as ResourceOfferRecord["signature"],
    active: row.active === 1,
    createdAt: row.created_at as number,
  };
}

export function toJobOffer(row: Row, cache: OfferCache): JobOfferRecord {
  return {
    id: row.id as JobOfferRecord["id"],
    offer: cache.get(row.id as string, row.offer as string, JobOffer),
    signature: row.signature as JobOfferRecord["signature"],
    status: JobOfferStatus.parse(row.status),
    dealIds: JSON.parse(row.deal_ids as string),
    rejections: JSON.parse(row.rejections as string),
    createdAt: row.created_at as number,
  };
}

/** A deal's terms as the book stored them (`toWire` of `deriveDeal`'s output, from validated offers), back in their parsed shape. */
function storedTerms(text: string): DealRecord["deal"] {
  const w = JSON.parse(text) as Record<keyof DealRecord["deal"], never>;
  return {
    jobCreator: w.jobCreator,
    provider: w.provider,
    jobOffer: w.jobOffer,
    resourceOffer: w.resourceOffer,
    price: BigInt(w.price),
    collateral: BigInt(w.collateral),
    openBy: BigInt(w.openBy),
    deadline: BigInt(w.deadline),
    policy: w.policy,
    policyParam: BigInt(w.policyParam),
    mediationFee: BigInt(w.mediationFee),
    mediators: w.mediators,
    replicas: w.replicas,
    moduleCreator: w.moduleCreator,
    royaltyBps: w.royaltyBps,
  };
}

/** A signed result as the book stored it (`toWire` of a `SignedResult` the API validated). */
function storedResult(text: string): NonNullable<DealRecord["result"]> {
  const w = JSON.parse(text) as { result: NonNullable<DealRecord["result"]>["result"]; signature: Hex };
  const { dealId, provider, result, exitCode } = w.result;
  return { result: { dealId, provider, result, exitCode }, signature: w.signature };
}

/** A signed progress report as the book stored it (`toWire` of a `SignedDealProgress` the API validated). */
function storedProgress(text: string): NonNullable<DealRecord["progress"]> {
  const w = JSON.parse(text) as { progress: Record<keyof NonNullable<DealRecord["progress"]>["progress"], never>; signature: Hex };
  const { dealId, provider, status, txHash, at, error } = w.progress;
  return { progress: { dealId, provider, status, txHash, at: BigInt(at), error }, signature: w.signature };
}

/**
 * A deal row back into its record, from its columns, without the wire schema: every column was
 * validated, and normalized as the schema does (checksummed addresses, lowercase hashes), before
 * the book wrote it: the terms derived by the solver from validated offers, the signatures,
 * reports and results by the API's schemas, the opening transaction from the chain's logs. Parsing
 * each record again through `DealRecord` on every read was ~10% of the solver's CPU under load
 * (a deal is read several times per status change); orderBook.test.ts checks the two agree at
 * every stage of a deal.
 */
export function toDeal(row: Row): DealRecord {
  return {
    id: row.id as DealRecord["id"],
    deal: storedTerms(row.terms as string),
    jobOfferId: row.job_offer_id as DealRecord["id"],
    resourceOfferId: row.resource_offer_id as DealRecord["id"],
    module: row.module as string,
    inputs: row.inputs as string,
    status: row.status as DealRecord["status"],
    updatedAt: row.updated_at as number,
    ...(row.job_creator_signature !== null && { jobCreatorSignature: row.job_creator_signature as Hex }),
    ...(row.provider_signature !== null && { providerSignature: row.provider_signature as Hex }),
    ...(row.trust_nonce != null && { trustNonce: BigInt(row.trust_nonce as string) }),
    ...(row.result !== null && { result: storedResult(row.result as string) }),
    ...(row.open_tx !== null && { openTx: row.open_tx as Hex }),
    ...(row.error !== null && { error: row.error as string }),
    ...(row.progress !== null && { progress: storedProgress(row.progress as string) }),
    ...(row.replica_group !== null && { group: JSON.parse(row.replica_group as string) }),
  };
}
