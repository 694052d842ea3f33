// What an audit must show before the mediator spends a re-run on it, checked in order, each a
// LilyError naming the field: that this mediator is the lease's, that the provider signed the
// receipt for this lease, that the request and answer are the ones the receipt signs, and that
// the request is one a re-run can judge. Nothing is recorded or slashed for a refused audit.
import type { Address, Hex } from "viem";
import { isAddressEqual } from "viem";
import { LilyError, hashRecord, requestDigest, responseDigest, verifyRecord, type Domain } from "@lily/protocol";
import type { AuditBody } from "@lily/api";

export interface CheckedAudit {
  /** The lease's id: its EIP-712 hash. */
  lease: Hex;
  /** The receipt's EIP-712 hash: the audit's id. */
  receipt: Hex;
}

const invalid = (field: string, message: string, details?: Record<string, unknown>) =>
  new LilyError({ code: "INVALID_INPUT", field, message: `${field}: ${message}`, ...(details && { details }) });

/** `domain` is the leases domain {chainId, verifyingContract: LilyLeases}; `me` the mediator's address. */
export async function checkAudit(body: AuditBody, domain: Domain, me: Address): Promise<CheckedAudit> {
  const { lease, request, response, receipt } = body;
  // REJECT: only the mediator the lease names may audit it (both parties signed that name)
  if (!isAddressEqual(lease.mediator, me)) throw invalid("lease.mediator", `the lease names mediator ${lease.mediator}, not this one (${me})`);
  const leaseId = hashRecord(domain, "Lease", lease);
  // REJECT: the receipt must be for this lease
  if (receipt.receipt.lease.toLowerCase() !== leaseId.toLowerCase()) {
    throw invalid("receipt.receipt.lease", `the receipt is for lease ${receipt.receipt.lease}, not ${leaseId}`);
  }
  // REJECT: the receipt must name the lease's provider...
  if (!isAddressEqual(receipt.receipt.provider, lease.provider)) {
    throw invalid("receipt.receipt.provider", `the receipt names ${receipt.receipt.provider}, the lease's provider is ${lease.provider}`);
  }
  // REJECT: ...and be signed by it, for this chain and LilyLeases
  await verifyRecord(domain, "Receipt", receipt.receipt, receipt.signature, { signer: lease.provider, field: "receipt.signature" });
  // REJECT: the request must be the one the receipt signs
  const req = requestDigest(request);
  if (req !== receipt.receipt.request) throw invalid("request", `hashes to ${req}, the receipt signs ${receipt.receipt.request}`);
  // REJECT: the answer must be the one the receipt signs
  const res = responseDigest(response);
  if (res !== receipt.receipt.response) throw invalid("response", `hashes to ${res}, the receipt signs ${receipt.receipt.response}`);
  // REJECT: the mediator re-runs the lease's model only
  if (request.model !== lease.model) throw invalid("request.model", `${request.model} is not the lease's model ${lease.model}`);
  // REJECT: only a temperature-0 answer is one text a re-run can reproduce
  if (request.temperature !== 0) throw invalid("request.temperature", `${request.temperature}: only temperature-0 requests are audited`);
  return { lease: leaseId, receipt: hashRecord(domain, "Receipt", receipt.receipt) };
}

/**
 * How many audits of one lease the mediator takes: twice the share the lease allows of the
 * answers given so far (the receipt's `seq`, which the provider signs), plus a few, so a payer
 * sampling at random is never refused yet cannot make the mediator re-run every answer.
 */
export function auditAllowance(auditBps: number, seq: bigint): number {
  const share = (seq * BigInt(auditBps) + 9_999n) / 10_000n;
  return 4 + 2 * Number(share);
}
