// The provider's lease API (Anura): what a gateway calls on a provider that serves models. Leases,
// vouchers and receipts cross it as signed records (protocol/lease.ts); neither side trusts the
// other's word, only signatures and the chain. `infer` streams server-sent events (sse.ts) and is
// described here, served by hand: one `token` event per piece of text as the model produces it,
// then exactly one `done` (the whole answer and the provider's signed receipt) or one `error`.
import * as z from "zod";
import {
  InferenceRequest,
  InferenceResponse,
  Lease,
  type LilyError,
  SignedLease,
  SignedModelOffer,
  SignedReceipt,
  SignedVoucher,
  hex32,
  signature,
  uint,
  uint64,
} from "@lily/protocol";
import { defineRoutes } from "./route.ts";

const leaseParams = z.object({ id: hex32 });

export const LeaseState = z.enum(["proposed", "open", "closed", "expired", "slashed"]);
export type LeaseState = z.infer<typeof LeaseState>;

/** The provider's view of one lease. */
export const LeaseStatus = z.object({
  id: hex32,
  lease: Lease,
  state: LeaseState,
  /** Answers given so far. */
  requests: uint64,
  /** What those answers cost at the lease's prices. */
  owed: uint,
  /** The latest voucher's amount: what the payer has signed for. */
  paid: uint,
});
export type LeaseStatus = z.infer<typeof LeaseStatus>;

export const leaseRoutes = defineRoutes({
  /** The payer proposes a lease it signed; the provider countersigns or refuses with a reason. */
  proposeLease: { method: "POST", path: "/v1/leases", body: SignedLease, response: z.object({ id: hex32, providerSignature: signature }) },
  getLease: { method: "GET", path: "/v1/leases/:id", params: leaseParams, response: LeaseStatus },
  /** The payer's latest cumulative voucher; older or smaller ones are refused. */
  postVoucher: { method: "POST", path: "/v1/leases/:id/vouchers", params: leaseParams, body: SignedVoucher, response: z.object({ paid: uint }) },
  /** An answer already given (or cut short) under the lease, by the payer's ticket. */
  getAnswer: {
    method: "GET",
    path: "/v1/leases/:id/answers/:ticket",
    params: z.object({ id: hex32, ticket: z.string().max(64) }),
    response: z.object({ response: InferenceResponse, receipt: SignedReceipt }),
  },
  /** Embeddings of texts under a lease, with the receipt for them. */
  embed: {
    method: "POST",
    path: "/v1/leases/:id/embeddings",
    params: leaseParams,
    body: z.object({ model: z.string(), input: z.array(z.string().max(100_000)).min(1).max(256) }),
    response: z.object({ vectors: z.array(z.array(z.number())), inputTokens: z.number().int(), receipt: SignedReceipt }),
  },
});

/** The streaming inference route: POST a body of this shape, read server-sent events back. */
export const INFER_PATH = "/v1/leases/:id/infer";
export const InferBody = z.object({
  request: InferenceRequest,
  /**
   * The payer's own name for this answer (unique per lease). When the payer stops reading a stream
   * (its client went away) the provider still ends the answer and keeps it under the ticket, so the
   * payer can fetch the receipt (getAnswer) and pay exactly for the tokens produced.
   */
  ticket: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "1-64 letters, digits, _ or -"),
});
export type InferBody = z.infer<typeof InferBody>;

/** The events `infer` streams, by SSE event name. */
export const InferEvent = z.discriminatedUnion("type", [
  z.object({ type: z.literal("token"), text: z.string() }),
  z.object({ type: z.literal("done"), response: InferenceResponse, receipt: SignedReceipt }),
  z.object({ type: z.literal("error"), error: z.object({ code: z.string(), message: z.string(), field: z.string().optional() }) }),
]);
export type InferEvent = z.infer<typeof InferEvent>;

/** A model offer as a solver keeps it. */
export const ModelOfferRecord = z.object({ id: hex32, offer: SignedModelOffer.shape.offer, signature, postedAt: z.number() });
export type ModelOfferRecord = z.infer<typeof ModelOfferRecord>;

export const modelOfferRoutes = defineRoutes({
  postModelOffer: { method: "POST", path: "/v1/model-offers", body: SignedModelOffer, response: ModelOfferRecord },
  listModelOffers: {
    method: "GET",
    path: "/v1/model-offers",
    query: z.object({ model: z.string().optional() }),
    response: z.object({ offers: z.array(ModelOfferRecord) }),
  },
});

/** An `error` event from a LilyError. */
export function errorEvent(err: LilyError): InferEvent {
  return { type: "error", error: { code: err.code, message: err.message, field: err.field } };
}
