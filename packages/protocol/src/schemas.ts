// Wire schemas (zod) for every record that crosses a process boundary. Parsing turns wire JSON
// (bigints as decimal strings) into the EIP-712 message shapes; `toWire` goes the other way.
import { z } from "zod";
import { getAddress, type Address, type Hex } from "viem";
import { isCid } from "./cid.ts";

export const address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed 20-byte address")
  .transform((a) => getAddress(a) as Address);
export const hex32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "must be a 0x-prefixed 32-byte hex").transform((h) => h.toLowerCase() as Hex);
export const signature = z.string().regex(/^0x[0-9a-fA-F]{130}$/, "must be a 65-byte hex signature").transform((h) => h as Hex);
export const cid = z.string().refine(isCid, "must be a CIDv1 (sha-256) content id");
export const uint = z
  .union([z.bigint(), z.number().int().nonnegative(), z.string().regex(/^\d+$/, "must be a non-negative integer")])
  .transform((v) => BigInt(v))
  .refine((v) => v >= 0n && v < 2n ** 256n, "must fit in uint256");
export const uint64 = uint.refine((v) => v < 2n ** 64n, "must fit in uint64");
export const uint32 = z.number().int().min(0).max(2 ** 32 - 1);
export const policyId = z.number().int().min(0).max(255);

export const JobOffer = z.object({
  jobCreator: address,
  module: cid,
  inputs: cid,
  cpu: uint32,
  memoryMb: uint32,
  gpu: uint32,
  vramMb: uint32,
  maxPrice: uint,
  policy: policyId,
  policyParam: uint64,
  mediationFee: uint,
  mediators: z.array(address),
  moduleCreator: address,
  royaltyBps: z.number().int().min(0).max(10_000),
  timeoutSeconds: uint64,
  expiresAt: uint64,
  nonce: uint,
});

export const ResourceOffer = z.object({
  provider: address,
  cpu: uint32,
  memoryMb: uint32,
  gpu: uint32,
  vramMb: uint32,
  price: uint,
  collateral: uint,
  modules: z.array(cid),
  mediators: z.array(address),
  expiresAt: uint64,
  nonce: uint,
});

export const Deal = z.object({
  jobCreator: address,
  provider: address,
  jobOffer: hex32,
  resourceOffer: hex32,
  price: uint,
  collateral: uint,
  deadline: uint64,
  policy: policyId,
  policyParam: uint64,
  mediationFee: uint,
  mediators: hex32,
  moduleCreator: address,
  royaltyBps: z.number().int().min(0).max(10_000),
});

export const Result = z.object({
  dealId: hex32,
  provider: address,
  result: cid,
  exitCode: uint32,
});

/** What a provider may report about its deal; the other statuses the solver sets itself. */
export const ReportedDealStatus = z.enum(["opened", "running", "rejected", "timed-out"]);

/** `DealProgress.txHash` when the report names no transaction. */
export const NO_TX_HASH = `0x${"00".repeat(32)}` as Hex;

export const DealProgress = z.object({
  dealId: hex32,
  provider: address,
  status: ReportedDealStatus,
  /** The transaction that opened (or ended) the deal; `NO_TX_HASH` when none. */
  txHash: hex32,
  /** Unix seconds when the provider made the report. */
  at: uint64,
  /** Why the deal was rejected, in words; empty when there is nothing to say. Signed too. */
  error: z.string(),
});

export const SignedJobOffer = z.object({ offer: JobOffer, signature });
export const SignedResourceOffer = z.object({ offer: ResourceOffer, signature });
export const SignedResult = z.object({ result: Result, signature });
export const SignedDealProgress = z.object({ progress: DealProgress, signature });

/** Where a deal is in its life; the solver's record, confirmed by the chain where it matters. */
export const DealStatus = z.enum([
  "proposed", // solver matched the offers; waiting for both signatures
  "signed", // both parties signed; the provider opens it on chain
  "opened", // locked on chain
  "running", // the provider is executing the module
  "committed", // result committed on chain (and, under `trust`, settled)
  "timed-out", // the deadline passed without a result; JC refunded, provider slashed
  "rejected", // a party declined to sign or opening failed; nothing was locked
]);

export const DealRecord = z.object({
  id: hex32,
  deal: Deal,
  jobOfferId: hex32,
  resourceOfferId: hex32,
  module: cid,
  inputs: cid,
  jobCreatorSignature: signature.optional(),
  providerSignature: signature.optional(),
  status: DealStatus,
  result: SignedResult.optional(),
  openTx: hex32.optional(),
  error: z.string().optional(),
  /** The provider's last status report the solver accepted, signature and all. */
  progress: SignedDealProgress.optional(),
  updatedAt: z.number(),
});

export const JobOfferStatus = z.enum(["open", "matched", "expired", "cancelled"]);

export const JobOfferRecord = z.object({
  id: hex32,
  offer: JobOffer,
  signature,
  status: JobOfferStatus,
  /** The deals proposed for this offer: one, or k under replicate(k), each with a distinct provider. */
  dealIds: z.array(hex32).default([]),
  /** Why each provider was filtered out at the last matching attempt (provider -> reason). */
  rejections: z.record(z.string(), z.string()).default({}),
  createdAt: z.number(),
});

export const ResourceOfferRecord = z.object({
  id: hex32,
  offer: ResourceOffer,
  signature,
  active: z.boolean(),
  createdAt: z.number(),
});

/** JSON with bigints as decimal strings: the wire form of every record above. */
export function toWire<T>(value: T): unknown {
  return JSON.parse(JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v)));
}

export type JobOffer = z.infer<typeof JobOffer>;
export type ResourceOffer = z.infer<typeof ResourceOffer>;
export type Deal = z.infer<typeof Deal>;
export type Result = z.infer<typeof Result>;
export type SignedJobOffer = z.infer<typeof SignedJobOffer>;
export type SignedResourceOffer = z.infer<typeof SignedResourceOffer>;
export type SignedResult = z.infer<typeof SignedResult>;
export type ReportedDealStatus = z.infer<typeof ReportedDealStatus>;
export type DealProgress = z.infer<typeof DealProgress>;
export type SignedDealProgress = z.infer<typeof SignedDealProgress>;
export type DealStatus = z.infer<typeof DealStatus>;
export type DealRecord = z.infer<typeof DealRecord>;
export type JobOfferRecord = z.infer<typeof JobOfferRecord>;
export type ResourceOfferRecord = z.infer<typeof ResourceOfferRecord>;
