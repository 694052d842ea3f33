// The solver's HTTP API. Offers and deals cross it as signed records; the solver verifies every
// signature it receives and can neither forge nor alter one.
import * as z from "zod";
import {
  JobOffer,
  SignedCancelJobOffer,
  SignedJobOffer,
  SignedResourceOffer,
  SignedResult,
  SignedDealProgress,
  DealRecord,
  JobOfferRecord,
  ResourceOfferRecord,
  DealStatus,
  address,
  hex32,
  signature,
  uint,
  uint64,
} from "@lily/protocol";
import { defineRoutes } from "./route.ts";

/** One deal status, or several separated by commas, meaning any of them: a provider's pass reads its proposed and signed deals in one request. */
const dealStatuses = z
  .string()
  .transform((s) => s.split(","))
  .pipe(z.array(DealStatus).min(1).max(DealStatus.options.length));

const idParams = z.object({ id: hex32 });

export const Health = z.object({
  role: z.string(),
  version: z.string(),
  chainId: z.number(),
  deals: address,
  token: address,
});
export type Health = z.infer<typeof Health>;

/** What the solver would do with a job offer now, without storing or signing anything. */
export const JobExplanation = z.object({
  /** Provider -> the first filter that rejects the job, as `filter: reason`; `*` for the job as a whole. */
  rejections: z.record(z.string(), z.string()),
  /** Providers that would take the job now, cheapest first. */
  candidates: z.array(z.object({ provider: address, resourceOffer: hex32, price: uint, collateral: uint })),
  /**
   * True when nothing but waiting for capacity is in the way, false when every provider rejects
   * the job for a reason waiting cannot change (its module, price, policy, mediators, resources
   * beyond any offer): such a job would never match, and should not be posted.
   */
  matchable: z.boolean(),
  /** The least price at which some provider would take the job if the price were the only obstacle. */
  clearingPrice: uint.optional(),
});
export type JobExplanation = z.infer<typeof JobExplanation>;

export const solverRoutes = defineRoutes({
  health: { method: "GET", path: "/v1/health", response: Health },
  postResourceOffer: { method: "POST", path: "/v1/resource-offers", body: SignedResourceOffer, response: ResourceOfferRecord },
  getResourceOffer: { method: "GET", path: "/v1/resource-offers/:id", params: idParams, response: ResourceOfferRecord },
  listResourceOffers: {
    method: "GET",
    path: "/v1/resource-offers",
    response: z.object({ offers: z.array(ResourceOfferRecord) }),
  },
  postJobOffer: { method: "POST", path: "/v1/job-offers", body: SignedJobOffer, response: JobOfferRecord },
  getJobOffer: { method: "GET", path: "/v1/job-offers/:id", params: idParams, response: JobOfferRecord },
  /** The job creator withdraws its job offer (signed `CancelJobOffer`): no new deal is proposed for it. */
  cancelJobOffer: { method: "POST", path: "/v1/job-offers/:id/cancel", params: idParams, body: SignedCancelJobOffer, response: JobOfferRecord },
  /**
   * Dry run: how the solver would match this (unsigned) job offer now, and why each provider would
   * not. With `firstFit`, when some provider would take it now the answer is only the solver's pick
   * (no rejections); otherwise the full dry run.
   */
  explainJobOffer: {
    method: "POST",
    path: "/v1/job-offers/explain",
    body: z.object({ offer: JobOffer, firstFit: z.boolean().optional() }),
    response: JobExplanation,
  },
  getDeal: { method: "GET", path: "/v1/deals/:id", params: idParams, response: DealRecord },
  listDeals: {
    method: "GET",
    path: "/v1/deals",
    /**
     * `trustLeaf`: routed trust deals whose leaf on LilyTrustDeals (as DealsOpened names it) is this
     * one. `with=jobOffers`: the answer also holds the job offer of each listed deal still proposed,
     * once each (what a provider checks a proposal against; without it, one more request a proposal).
     * A solver that predates it leaves `jobOffers` out: ask for them one by one then.
     */
    query: z.object({
      provider: address.optional(),
      jobCreator: address.optional(),
      status: dealStatuses.optional(),
      trustLeaf: hex32.optional(),
      with: z.literal("jobOffers").optional(),
    }),
    response: z.object({ deals: z.array(DealRecord), jobOffers: z.array(JobOfferRecord).optional() }),
  },
  signDeal: {
    method: "POST",
    path: "/v1/deals/:id/signatures",
    params: idParams,
    /** `trustNonce`: with the provider's signature on a deal routed to LilyTrustDeals, the nonce it signed under. */
    body: z.object({ signer: address, signature, trustNonce: uint64.optional() }),
    response: DealRecord,
  },
  /**
   * Progress reported by the deal's provider, signed by it (`DealProgress`, error text included),
   * so nobody else can end its deal or push it out of the job. Informational: money moves only on chain.
   */
  postDealStatus: { method: "POST", path: "/v1/deals/:id/status", params: idParams, body: SignedDealProgress, response: DealRecord },
  postResult: { method: "POST", path: "/v1/deals/:id/result", params: idParams, body: SignedResult, response: DealRecord },
});

export type SolverRoutes = typeof solverRoutes;
