// The signed record of one answer: the lease it was given under, the request, the answer and the
// provider's receipt over both, stored content-addressed so anyone holding its CID can audit the
// answer later (`lily receipt verify`). Verifying needs nothing but the record and the chain's id
// and leases contract: every claim in it is either a digest or a signature.
import * as z from "zod";
import { isAddressEqual } from "viem";
import { hashRecord, verifyRecord, type Domain } from "./eip712.ts";
import { LilyError } from "./errors.ts";
import { InferenceRequest, InferenceResponse, requestDigest, responseDigest } from "./inference.ts";
import { Lease, SignedReceipt } from "./lease.ts";
import { address } from "./schemas.ts";

export const AnswerRecord = z.object({
  chainId: z.number().int().positive(),
  /** The LilyLeases contract: the verifying contract of the lease and the receipt. */
  leases: address,
  lease: Lease,
  request: InferenceRequest,
  response: InferenceResponse,
  receipt: SignedReceipt,
});
export type AnswerRecord = z.infer<typeof AnswerRecord>;

/** Check every claim of an answer record; throws BAD_SIGNATURE naming the first that fails. */
export async function verifyAnswerRecord(record: AnswerRecord): Promise<{ leaseId: `0x${string}`; provider: `0x${string}` }> {
  const domain: Domain = { chainId: record.chainId, verifyingContract: record.leases };
  const leaseId = hashRecord(domain, "Lease", record.lease);
  const r = record.receipt.receipt;
  const fail = (field: string, why: string) => new LilyError({ code: "BAD_SIGNATURE", field, message: `${field}: ${why}` });
  // REJECT: the receipt must be for this lease, by its provider
  if (r.lease !== leaseId) throw fail("receipt.lease", `names lease ${r.lease}, but the record's lease is ${leaseId}`);
  if (!isAddressEqual(r.provider, record.lease.provider)) throw fail("receipt.provider", `is ${r.provider}, not the lease's provider ${record.lease.provider}`);
  // REJECT: the digests must be of this very request and answer
  if (r.request !== requestDigest(record.request)) throw fail("receipt.request", "is not the digest of the record's request");
  if (r.response !== responseDigest(record.response)) throw fail("receipt.response", "is not the digest of the record's answer");
  if (r.inputTokens !== record.response.inputTokens || r.outputTokens !== record.response.outputTokens)
    throw fail("receipt", "token counts differ from the answer's");
  await verifyRecord(domain, "Receipt", r, record.receipt.signature, { signer: record.lease.provider, field: "receipt.signature" });
  return { leaseId, provider: record.lease.provider };
}
