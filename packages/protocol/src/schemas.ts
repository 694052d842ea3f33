// Wire schemas (zod) for every record that crosses a process boundary. Parsing turns wire JSON
// (bigints as decimal strings) into the EIP-712 message shapes; `toWire` goes the other way.
// Every array and string is bounded, so no message can make a receiver parse, hash or store
// more than a few kilobytes before its signature is checked. The record schemas are checked
// against the EIP-712 types they mirror (at the end of this file, and in a test).
import * as z from "zod";
import { getAddress, type Address, type Hex } from "viem";
import { isCid } from "./cid.ts";
import type { CancelJobOfferMessage, DealMessage, DealProgressMessage, JobOfferMessage, ResourceOfferMessage, ResultMessage } from "./eip712.ts";

/** Most mediators an offer may list. */
export const MAX_MEDIATORS = 32;
/** Most modules a resource offer may allow. */
export const MAX_MODULES = 256;
/** Longest free text (an error, a reason) a record may carry. */
export const MAX_TEXT = 1000;

export const address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed 20-byte address")
  .transform((a) => getAddress(a) as Address);
export const hex32 = z
  .string()
  .regex(/^0x[0-9a-fA-F]{64}$/, "must be a 0x-prefixed 32-byte hex")
  .transform((h) => h.toLowerCase() as Hex);
export const signature = z
  .string()
  .regex(/^0x[0-9a-fA-F]{130}$/, "must be a 65-byte hex signature")
  .transform((h) => h as Hex);
export const cid = z.string().max(128, "is too long for a CID").refine(isCid, "must be a CIDv1 (sha-256) content id");
export const uint = z
  .union([z.bigint(), z.number().int().nonnegative(), z.string().max(78, "is too long for a uint256").regex(/^\d+$/, "must be a non-negative integer")])
  .transform((v) => BigInt(v))
  .refine((v) => v >= 0n && v < 2n ** 256n, "must fit in uint256");
export const uint64 = uint.refine((v) => v < 2n ** 64n, "must fit in uint64");
export const uint32 = z
  .number()
  .int()
  .min(0)
  .max(2 ** 32 - 1);
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
  mediators: z.array(address).max(MAX_MEDIATORS),
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
  modules: z.array(cid).max(MAX_MODULES),
  mediators: z.array(address).max(MAX_MEDIATORS),
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
  openBy: uint64,
  deadline: uint64,
  policy: policyId,
  policyParam: uint64,
  mediationFee: uint,
  mediators: hex32,
  replicas: hex32,
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
  error: z.string().max(MAX_TEXT),
});

/** The job creator withdraws its job offer; `at` (unix seconds) is when it decided to. */
export const CancelJobOffer = z.object({
  jobOffer: hex32,
  jobCreator: address,
  at: uint64,
});

export const SignedJobOffer = z.object({ offer: JobOffer, signature });
export const SignedResourceOffer = z.object({ offer: ResourceOffer, signature });
export const SignedResult = z.object({ result: Result, signature });
export const SignedDealProgress = z.object({ progress: DealProgress, signature });
export const SignedCancelJobOffer = z.object({ cancel: CancelJobOffer, signature });

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
  /**
   * A deal routed to LilyTrustDeals: the nonce its provider picked when it signed (trustDealOf), set
   * with the provider's signature and never changed after. Both signatures are over the TrustDeal
   * with this nonce.
   */
  trustNonce: uint64.optional(),
  status: DealStatus,
  result: SignedResult.optional(),
  openTx: hex32.optional(),
  error: z.string().optional(),
  /** The provider's last status report the solver accepted, signature and all. */
  progress: SignedDealProgress.optional(),
  /** Under replicate(k): the group's providers, sorted ascending; they hash to `deal.replicas`. */
  group: z.array(address).max(16).optional(),
  updatedAt: z.number(),
});

export const JobOfferStatus = z.enum([
  "open", // waiting for a match
  "matched", // held by its deal (or replica group)
  "expired", // past its expiresAt before a deal opened
  "cancelled", // its job creator withdrew it (signed CancelJobOffer)
  "abandoned", // its job creator did not sign a proposed deal in the sign window
]);

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

const bigintsAsStrings = (_k: string, v: unknown) => (typeof v === "bigint" ? v.toString() : v);

/** JSON with bigints as decimal strings: the wire form of every record above. */
export function toWire<T>(value: T): unknown {
  return JSON.parse(JSON.stringify(value, bigintsAsStrings));
}

/**
 * The wire form's text, as `JSON.stringify(toWire(value), null, space)` writes it, in one pass: a
 * response, an event or a stored record made it three (stringify, parse, stringify again).
 */
export function wireJson(value: unknown, space?: number): string {
  return JSON.stringify(value, bigintsAsStrings, space);
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
export type CancelJobOffer = z.infer<typeof CancelJobOffer>;
export type SignedCancelJobOffer = z.infer<typeof SignedCancelJobOffer>;

// Each record's wire schema parses to exactly its EIP-712 message: the same fields, and a value
// every signer accepts. A field added to one and not the other fails the typecheck here.
type SameKeys<A, B> = [keyof A] extends [keyof B] ? ([keyof B] extends [keyof A] ? true : false) : false;
/** True when the wire schema S parses to exactly the EIP-712 message M (used by lease.ts too). */
export type Signable<S extends z.ZodType, M> = z.output<S> extends M ? SameKeys<z.output<S>, M> : false;
const recordsMatchTheirTypes: [
  Signable<typeof JobOffer, JobOfferMessage>,
  Signable<typeof ResourceOffer, ResourceOfferMessage>,
  Signable<typeof Deal, DealMessage>,
  Signable<typeof Result, ResultMessage>,
  Signable<typeof DealProgress, DealProgressMessage>,
  Signable<typeof CancelJobOffer, CancelJobOfferMessage>,
] = [true, true, true, true, true, true];
void recordsMatchTheirTypes;

/** Each record's wire schema by its EIP-712 primary type (the runtime side of the check above). */
export const recordSchemas = { JobOffer, ResourceOffer, Deal, Result, DealProgress, CancelJobOffer } as const;
