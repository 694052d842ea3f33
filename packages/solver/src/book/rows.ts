// Rows of the order book back into records. Records are stored in their wire form; an offer is
// immutable once stored (its id is its digest), so each is parsed once and kept: a sweep every
// second re-reads the whole open book, and must not re-validate every offer each time.
import type { z } from "zod";
import { DealRecord, JobOffer, JobOfferStatus, ResourceOffer, type JobOfferRecord, type ResourceOfferRecord } from "@lily/protocol";

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

export function toResourceOffer(row: Row, cache: OfferCache): ResourceOfferRecord {
  return {
    id: row.id as ResourceOfferRecord["id"],
    offer: cache.get(row.id as string, row.offer as string, ResourceOffer),
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

/** The non-null columns of a row's optional fields: absent, not `undefined`, in the record. */
function present(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== null));
}

export function toDeal(row: Row): DealRecord {
  return DealRecord.parse({
    id: row.id,
    deal: JSON.parse(row.terms as string),
    jobOfferId: row.job_offer_id,
    resourceOfferId: row.resource_offer_id,
    module: row.module,
    inputs: row.inputs,
    status: row.status,
    updatedAt: row.updated_at,
    ...present({
      jobCreatorSignature: row.job_creator_signature,
      providerSignature: row.provider_signature,
      result: row.result === null ? null : JSON.parse(row.result as string),
      openTx: row.open_tx,
      error: row.error,
      progress: row.progress === null ? null : JSON.parse(row.progress as string),
      group: row.replica_group === null ? null : JSON.parse(row.replica_group as string),
    }),
  });
}
