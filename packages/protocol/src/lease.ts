// Anura's records on the wire: inference leases, the payer's cumulative vouchers, the provider's
// receipts and its model offers (their EIP-712 types are in eip712.ts, the lease's on-chain rules
// in contracts/LilyLeases.sol), and the one rule both sides use to price an answer.
import * as z from "zod";
import type { LeaseMessage, ModelOfferMessage, ReceiptMessage, VoucherMessage } from "./eip712.ts";
import { address, cid, hex32, MAX_MEDIATORS, signature, uint, uint32, uint64, type Signable } from "./schemas.ts";

/** Longest endpoint URL a model offer may carry. */
export const MAX_ENDPOINT = 512;

export const Lease = z.object({
  payer: address,
  provider: address,
  model: cid,
  budget: uint,
  collateral: uint,
  inputPricePer1k: uint,
  outputPricePer1k: uint,
  openBy: uint64,
  expiresAt: uint64,
  mediator: address,
  mediationFee: uint,
  auditBps: z.number().int().min(0).max(10_000),
  moduleCreator: address,
  royaltyBps: z.number().int().min(0).max(10_000),
  nonce: uint,
});

export const Voucher = z.object({ lease: hex32, amount: uint, requests: uint64 });

export const Receipt = z.object({
  lease: hex32,
  provider: address,
  seq: uint64,
  request: hex32,
  response: hex32,
  inputTokens: uint32,
  outputTokens: uint32,
});

export const ModelOffer = z.object({
  provider: address,
  model: cid,
  inputPricePer1k: uint,
  outputPricePer1k: uint,
  collateral: uint,
  endpoint: z.string().max(MAX_ENDPOINT).url("must be an http(s) URL"),
  mediators: z.array(address).max(MAX_MEDIATORS),
  expiresAt: uint64,
  nonce: uint,
});

export const SignedLease = z.object({ lease: Lease, payerSignature: signature, providerSignature: signature.optional() });
export const SignedVoucher = z.object({ voucher: Voucher, signature });
export const SignedReceipt = z.object({ receipt: Receipt, signature });
export const SignedModelOffer = z.object({ offer: ModelOffer, signature });

export type Lease = z.infer<typeof Lease>;
export type Voucher = z.infer<typeof Voucher>;
export type Receipt = z.infer<typeof Receipt>;
export type ModelOffer = z.infer<typeof ModelOffer>;
export type SignedLease = z.infer<typeof SignedLease>;
export type SignedVoucher = z.infer<typeof SignedVoucher>;
export type SignedReceipt = z.infer<typeof SignedReceipt>;
export type SignedModelOffer = z.infer<typeof SignedModelOffer>;

// The same check schemas.ts makes for the deal records: wire schema and EIP-712 type agree.
const leaseRecordsMatchTheirTypes: [
  Signable<typeof Lease, LeaseMessage>,
  Signable<typeof Voucher, VoucherMessage>,
  Signable<typeof Receipt, ReceiptMessage>,
  Signable<typeof ModelOffer, ModelOfferMessage>,
] = [true, true, true, true];
void leaseRecordsMatchTheirTypes;

/** Each lease record's wire schema by its EIP-712 primary type. */
export const leaseRecordSchemas = { Lease, Voucher, Receipt, ModelOffer } as const;

/**
 * What one answer costs under a lease: prompt and generated tokens at the lease's prices per
 * 1,000, rounded up to a whole base unit so a stream of tiny answers never rounds to free.
 */
export function answerCost(prices: Pick<Lease, "inputPricePer1k" | "outputPricePer1k">, inputTokens: number, outputTokens: number): bigint {
  const scaled = BigInt(inputTokens) * prices.inputPricePer1k + BigInt(outputTokens) * prices.outputPricePer1k;
  return (scaled + 999n) / 1000n;
}
