// The solver's HTTP API. Offers and deals cross it as signed records; the solver verifies every
// signature it receives and can neither forge nor alter one.
import { z } from "zod";
import {
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
} from "@lily/protocol";
import { defineRoutes } from "./route.ts";

const idParams = z.object({ id: hex32 });

export const Health = z.object({
  role: z.string(),
  version: z.string(),
  chainId: z.number(),
  deals: address,
  token: address,
});
export type Health = z.infer<typeof Health>;

export const solverRoutes = defineRoutes({
  health: { method: "GET", path: "/v1/health", response: Health },
  postResourceOffer: { method: "POST", path: "/v1/resource-offers", body: SignedResourceOffer, response: ResourceOfferRecord },
  listResourceOffers: {
    method: "GET",
    path: "/v1/resource-offers",
    response: z.object({ offers: z.array(ResourceOfferRecord) }),
  },
  postJobOffer: { method: "POST", path: "/v1/job-offers", body: SignedJobOffer, response: JobOfferRecord },
  getJobOffer: { method: "GET", path: "/v1/job-offers/:id", params: idParams, response: JobOfferRecord },
  getDeal: { method: "GET", path: "/v1/deals/:id", params: idParams, response: DealRecord },
  listDeals: {
    method: "GET",
    path: "/v1/deals",
    query: z.object({ provider: address.optional(), jobCreator: address.optional(), status: DealStatus.optional() }),
    response: z.object({ deals: z.array(DealRecord) }),
  },
  signDeal: {
    method: "POST",
    path: "/v1/deals/:id/signatures",
    params: idParams,
    body: z.object({ signer: address, signature }),
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
