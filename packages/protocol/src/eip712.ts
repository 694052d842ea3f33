// EIP-712 typed data for every record two parties must agree on. The Deal type here must match
// DEAL_TYPEHASH in contracts/LilyDeals.sol byte for byte: the contract recomputes the digest
// from the struct, and that digest is the deal id.
import type { Address, Hex, LocalAccount, TypedDataDefinition } from "viem";
import { concat, hashTypedData, isAddressEqual, keccak256 } from "viem";
import { LilyError } from "./errors.ts";
import { digest, domainSeparator, structEncoder, type StructEncoder } from "./typedHash.ts";
import { recoverSigner } from "./recoverSigner.ts";

export const DOMAIN_NAME = "Lily";
export const DOMAIN_VERSION = "1";
const SECP256K1_HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

export interface Domain {
  chainId: number;
  /** The LilyDeals contract (LilyLeases for Lease, Voucher and Receipt; LilyTrustDeals for TrustDeal); binds every signature to one deployment on one chain. */
  verifyingContract: Address;
}

/**
 * Every record, declared once: the EIP-712 type definitions. The TypeScript message types below
 * are derived from them, and the wire schemas (schemas.ts) are checked against them, so a field
 * is added in one place. Field comments say what each one means.
 */
export const types = {
  JobOffer: [
    { name: "jobCreator", type: "address" },
    { name: "module", type: "string" }, // the module manifest's CID
    { name: "inputs", type: "string" }, // the inputs record's CID
    { name: "cpu", type: "uint32" },
    { name: "memoryMb", type: "uint32" },
    { name: "gpu", type: "uint32" },
    { name: "vramMb", type: "uint32" },
    { name: "maxPrice", type: "uint256" }, // per deal, in token base units
    { name: "policy", type: "uint8" },
    { name: "policyParam", type: "uint64" },
    { name: "mediationFee", type: "uint256" },
    { name: "mediators", type: "address[]" },
    { name: "moduleCreator", type: "address" },
    { name: "royaltyBps", type: "uint16" },
    { name: "timeoutSeconds", type: "uint64" }, // the provider's time once the deal can no longer open
    { name: "expiresAt", type: "uint64" },
    { name: "nonce", type: "uint256" },
  ],
  ResourceOffer: [
    { name: "provider", type: "address" },
    { name: "cpu", type: "uint32" },
    { name: "memoryMb", type: "uint32" },
    { name: "gpu", type: "uint32" },
    { name: "vramMb", type: "uint32" },
    { name: "price", type: "uint256" },
    { name: "collateral", type: "uint256" },
    { name: "modules", type: "string[]" },
    { name: "mediators", type: "address[]" },
    { name: "expiresAt", type: "uint64" },
    { name: "nonce", type: "uint256" },
  ],
  Deal: [
    { name: "jobCreator", type: "address" },
    { name: "provider", type: "address" },
    { name: "jobOffer", type: "bytes32" },
    { name: "resourceOffer", type: "bytes32" },
    { name: "price", type: "uint256" },
    { name: "collateral", type: "uint256" },
    { name: "openBy", type: "uint64" }, // unix seconds: the deal can be opened at or before it, never after
    { name: "deadline", type: "uint64" }, // unix seconds: the result is committed at or before it
    { name: "policy", type: "uint8" },
    { name: "policyParam", type: "uint64" },
    { name: "mediationFee", type: "uint256" }, // paid to the mediator by whoever a mediation proves wrong
    { name: "mediators", type: "bytes32" }, // mediatorSetHash of the mediators both accept, minus the parties
    { name: "replicas", type: "bytes32" }, // replicate(k): replicaGroupHash of the group's providers; else zero
    { name: "moduleCreator", type: "address" }, // receives royaltyBps of the price whenever the provider is paid
    { name: "royaltyBps", type: "uint16" },
  ],
  // A deal under the trust policy for contracts/LilyTrustDeals.sol (TRUST_DEAL_TYPEHASH must match
  // byte for byte), which opens and settles trust deals in batches with no storage per deal. No
  // policy fields (trust has none); the two offers bound by one hash (trustDealOffers), as every
  // 32-byte word costs each deal 512 gas of calldata; `nonce` is the provider's: one deal per
  // (provider, nonce) opens.
  TrustDeal: [
    { name: "jobCreator", type: "address" },
    { name: "provider", type: "address" },
    { name: "offers", type: "bytes32" }, // trustDealOffers(jobOffer, resourceOffer)
    { name: "price", type: "uint256" },
    { name: "collateral", type: "uint256" },
    { name: "openBy", type: "uint64" },
    { name: "deadline", type: "uint64" },
    { name: "nonce", type: "uint64" }, // the provider's next in sequence (trustDealTerms.ts): one deal per (provider, nonce) opens
    { name: "moduleCreator", type: "address" },
    { name: "royaltyBps", type: "uint16" },
  ],
  Result: [
    { name: "dealId", type: "bytes32" },
    { name: "provider", type: "address" },
    { name: "result", type: "string" },
    { name: "exitCode", type: "uint32" },
  ],
  // Off chain only: the provider's own word on how its deal is going, so nobody else can end it.
  // `txHash` is zero when there is none, `error` empty; `at` (unix seconds, the provider's clock)
  // orders the reports, so an older one cannot be replayed to move the deal backwards.
  DealProgress: [
    { name: "dealId", type: "bytes32" },
    { name: "provider", type: "address" },
    { name: "status", type: "string" },
    { name: "txHash", type: "bytes32" },
    { name: "at", type: "uint64" },
    { name: "error", type: "string" },
  ],
  // Off chain only: the job creator withdraws a job offer from the solvers it sent it to.
  CancelJobOffer: [
    { name: "jobOffer", type: "bytes32" },
    { name: "jobCreator", type: "address" },
    { name: "at", type: "uint64" },
  ],
  // Anura's inference leases (contracts/LilyLeases.sol, whose LEASE_TYPEHASH must match byte for
  // byte; its digest is the lease id). A lease reserves a provider's model for a period and a
  // budget at per-token prices; the payer (a gateway) pays each answer off chain by vouchers.
  Lease: [
    { name: "payer", type: "address" },
    { name: "provider", type: "address" },
    { name: "model", type: "string" }, // the model manifest's CID
    { name: "budget", type: "uint256" }, // the most the payer can owe over the whole lease
    { name: "collateral", type: "uint256" }, // the provider's stake, slashed if an audit proves an answer wrong
    { name: "inputPricePer1k", type: "uint256" }, // per 1,000 prompt tokens, token base units
    { name: "outputPricePer1k", type: "uint256" }, // per 1,000 generated tokens
    { name: "openBy", type: "uint64" }, // unix seconds: the lease can open at or before it
    { name: "expiresAt", type: "uint64" }, // unix seconds: the end of service
    { name: "mediator", type: "address" }, // audits sampled answers; zero for none
    { name: "mediationFee", type: "uint256" }, // paid to the mediator out of a slashed collateral
    { name: "auditBps", type: "uint16" }, // share of answers the payer sends to audit
    { name: "moduleCreator", type: "address" }, // the model's creator, paid royaltyBps of what the provider earns
    { name: "royaltyBps", type: "uint16" },
    { name: "nonce", type: "uint256" },
  ],
  // Cumulative: `amount` is everything the payer owes for the lease so far, so only the latest
  // voucher counts and a lost one loses nothing.
  Voucher: [
    { name: "lease", type: "bytes32" },
    { name: "amount", type: "uint256" },
    { name: "requests", type: "uint64" },
  ],
  // The provider's word on one answer: the digests of the request it was given and of the answer
  // it gave. Carried with every answer, and the evidence an audit slashes with.
  Receipt: [
    { name: "lease", type: "bytes32" },
    { name: "provider", type: "address" },
    { name: "seq", type: "uint64" }, // the answer's number within the lease, from 1
    { name: "request", type: "bytes32" },
    { name: "response", type: "bytes32" },
    { name: "inputTokens", type: "uint32" },
    { name: "outputTokens", type: "uint32" },
  ],
  // Off chain only: a provider's standing offer to serve a model at per-token prices from an
  // endpoint, posted to solvers so gateways can find it.
  ModelOffer: [
    { name: "provider", type: "address" },
    { name: "model", type: "string" },
    { name: "inputPricePer1k", type: "uint256" },
    { name: "outputPricePer1k", type: "uint256" },
    { name: "collateral", type: "uint256" }, // staked per lease
    { name: "endpoint", type: "string" }, // the provider's lease API base URL
    { name: "mediators", type: "address[]" },
    { name: "expiresAt", type: "uint64" },
    { name: "nonce", type: "uint256" },
  ],
} as const;

export type PrimaryType = keyof typeof types;

/** A record's message as viem signs it, derived from `types` (bigint for uint64 and wider). */
export type RecordMessage<P extends PrimaryType> = TypedDataDefinition<typeof types, P>["message"];

export type JobOfferMessage = RecordMessage<"JobOffer">;
export type ResourceOfferMessage = RecordMessage<"ResourceOffer">;
export type DealMessage = RecordMessage<"Deal">;
export type TrustDealMessage = RecordMessage<"TrustDeal">;

/** A trust deal's `offers`: keccak256(abi.encode(jobOffer, resourceOffer)) of the two signed offers' digests. */
export function trustDealOffers(jobOffer: Hex, resourceOffer: Hex): Hex {
  return keccak256(concat([jobOffer, resourceOffer]));
}
export type ResultMessage = RecordMessage<"Result">;
export type DealProgressMessage = RecordMessage<"DealProgress">;
export type CancelJobOfferMessage = RecordMessage<"CancelJobOffer">;
export type LeaseMessage = RecordMessage<"Lease">;
export type VoucherMessage = RecordMessage<"Voucher">;
export type ReceiptMessage = RecordMessage<"Receipt">;
export type ModelOfferMessage = RecordMessage<"ModelOffer">;

/** Who must have signed each record. */
const signerField = {
  JobOffer: "jobCreator",
  ResourceOffer: "provider",
  Deal: undefined, // signed by both parties
  TrustDeal: undefined, // signed by both parties
  Result: "provider",
  DealProgress: "provider",
  CancelJobOffer: "jobCreator",
  Lease: undefined, // signed by both parties
  Voucher: undefined, // signed by the lease's payer
  Receipt: "provider",
  ModelOffer: "provider",
} as const satisfies Record<PrimaryType, string | undefined>;

function typedData<P extends PrimaryType>(domain: Domain, primaryType: P, message: RecordMessage<P>) {
  return {
    domain: { name: DOMAIN_NAME, version: DOMAIN_VERSION, chainId: domain.chainId, verifyingContract: domain.verifyingContract },
    types,
    primaryType,
    message,
  } as const;
}

/** Each record type's EIP-712 encoder, compiled once (typedHash.ts). */
const encoders = Object.fromEntries(Object.entries(types).map(([name, fields]) => [name, structEncoder(name, fields)])) as Record<
  PrimaryType,
  StructEncoder | undefined
>;

/**
 * The EIP-712 digest: the id of offers and deals, and what signatures sign. The same bytes as
 * viem's `hashTypedData`, computed with the domain separator and type hashes cached (a deal id per
 * match); any value the fast encoder cannot judge exactly goes to viem, whose answer or error is
 * returned.
 */
export function hashRecord<P extends PrimaryType>(domain: Domain, primaryType: P, message: RecordMessage<P>): Hex {
  const separator = domainSeparator({ name: DOMAIN_NAME, version: DOMAIN_VERSION, chainId: domain.chainId, verifyingContract: domain.verifyingContract });
  const struct = separator && message && encoders[primaryType]?.hash(message as Record<string, unknown>);
  if (separator && struct) return digest(separator, struct);
  return hashTypedData(typedData(domain, primaryType, message) as never);
}

export async function signRecord<P extends PrimaryType>(account: LocalAccount, domain: Domain, primaryType: P, message: RecordMessage<P>): Promise<Hex> {
  // An EIP-712 signature is a signature of the digest: signing hashRecord's digest gives the same
  // bytes as signTypedData without viem hashing the record again (~0.4 ms of a signature's ~1).
  if (account.sign) return account.sign({ hash: hashRecord(domain, primaryType, message) });
  return account.signTypedData(typedData(domain, primaryType, message) as never);
}

/**
 * Verify that `signature` over the record was made by `signer`. Throws BAD_SIGNATURE naming
 * `field` otherwise. For records with a signer field, `signer` defaults to that field.
 */
export async function verifyRecord<P extends PrimaryType>(
  domain: Domain,
  primaryType: P,
  message: RecordMessage<P>,
  signature: Hex,
  opts: { signer?: Address; field?: string } = {},
): Promise<void> {
  const key = signerField[primaryType];
  const expected = opts.signer ?? (key ? (message as unknown as Record<string, Address>)[key] : undefined);
  const field = opts.field ?? "signature";
  if (!expected) throw new LilyError({ code: "INTERNAL", message: `verifyRecord(${primaryType}) needs an explicit signer` });
  // REJECT: anything the contracts' ECDSA check (OpenZeppelin) refuses is refused here too
  const flaw = signatureFlaw(signature);
  if (flaw) throw new LilyError({ code: "BAD_SIGNATURE", field, message: `${field}: ${flaw} ${primaryType} signature` });
  let recovered: Address;
  try {
    recovered = await recoverSigner(hashRecord(domain, primaryType, message), signature);
  } catch (e) {
    throw new LilyError({ code: "BAD_SIGNATURE", field, message: `${field}: malformed ${primaryType} signature`, cause: e });
  }
  if (!isAddressEqual(recovered, expected)) {
    throw new LilyError({
      code: "BAD_SIGNATURE",
      field,
      message: `${field}: ${primaryType} signature is by ${recovered}, expected ${expected}`,
      details: { recovered, expected },
    });
  }
}

/**
 * Why the contracts would refuse this signature bytes-wise, or undefined. They accept exactly what
 * OpenZeppelin's ECDSA recovers from an EOA: 65 bytes r ‖ s ‖ v with v 27 or 28 (viem's recovery
 * also takes 0 and 1, which ecrecover refuses), 0 < s ≤ n/2 (no malleable high-s copy) and r ≠ 0.
 * Contract wallets (ERC-1271) are checked on chain only; off chain their signatures are refused,
 * which is stricter than the contract and so never accepts a deal that cannot open.
 */
export function signatureFlaw(signature: string): string | undefined {
  if (!/^0x[0-9a-fA-F]{130}$/.test(signature)) return "not a 65-byte";
  const r = BigInt(`0x${signature.slice(2, 66)}`);
  const s = BigInt(`0x${signature.slice(66, 130)}`);
  const v = parseInt(signature.slice(130, 132), 16);
  if (v !== 27 && v !== 28) return `a v of ${v} (the contracts take only 27 or 28) in the`;
  if (r === 0n || s === 0n) return "a zero r or s in the";
  if (s > SECP256K1_HALF_N) return "non-canonical (high-s)";
  return undefined;
}
