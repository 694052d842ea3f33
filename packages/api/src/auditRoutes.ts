// The mediator's HTTP API for audits (Anura): a lease's payer sends a sampled answer with the
// provider's signed receipt; the mediator re-runs it and, when the answer is wrong, slashes the
// provider's lease collateral on chain. Here beside leaseRoutes.ts, as gateways call it.
import * as z from "zod";
import { defineRoutes } from "./route.ts";
import { InferenceRequest, InferenceResponse, Lease, SignedReceipt, address, hex32 } from "@lily/protocol";

export const AuditBody = z.object({
  /** The lease's terms, as both parties signed them; the mediator recomputes its id. */
  lease: Lease,
  request: InferenceRequest,
  response: InferenceResponse,
  /** The provider's receipt for the answer, which the audit slashes with when the answer is wrong. */
  receipt: SignedReceipt,
});
export type AuditBody = z.infer<typeof AuditBody>;

export const AuditVerdict = z.enum(["correct", "wrong"]);
export type AuditVerdict = z.infer<typeof AuditVerdict>;

export const AuditResult = z.object({
  /** The receipt's EIP-712 hash: an audit is recorded once per receipt. */
  id: hex32,
  lease: hex32,
  verdict: AuditVerdict,
  reason: z.string(),
  /** The slashLease transaction, once a wrong answer has been slashed. */
  txHash: hex32.optional(),
});
export type AuditResult = z.infer<typeof AuditResult>;

export const mediatorRoutes = defineRoutes({
  /** Who this mediator is: a gateway given its URL learns the address to name in leases. */
  health: {
    method: "GET",
    path: "/v1/health",
    response: z.object({ role: z.literal("mediator"), address, chainId: z.number().int(), leases: address }),
  },
  postAudit: { method: "POST", path: "/v1/audits", body: AuditBody, maxBodyBytes: 4 * 1024 * 1024, response: AuditResult },
  getAudit: { method: "GET", path: "/v1/audits/:id", params: z.object({ id: hex32 }), response: AuditResult },
});
export type MediatorRoutes = typeof mediatorRoutes;
