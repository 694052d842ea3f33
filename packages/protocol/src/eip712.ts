// EIP-712 typed data for every record two parties must agree on. The Deal type here must match
// DEAL_TYPEHASH in contracts/LilyDeals.sol byte for byte: the contract recomputes the digest
// from the struct, and that digest is the deal id.
import type { Address, Hex, LocalAccount } from "viem";
import { hashTypedData, recoverTypedDataAddress, isAddressEqual } from "viem";
import { LilyError } from "./errors.ts";

export const DOMAIN_NAME = "Lily";
const SECP256K1_HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;
export const DOMAIN_VERSION = "1";

export interface Domain {
  chainId: number;
  /** The LilyDeals contract; binds every signature to one deployment on one chain. */
  verifyingContract: Address;
}

export const types = {
  JobOffer: [
    { name: "jobCreator", type: "address" },
    { name: "module", type: "string" },
    { name: "inputs", type: "string" },
    { name: "cpu", type: "uint32" },
    { name: "memoryMb", type: "uint32" },
    { name: "gpu", type: "uint32" },
    { name: "vramMb", type: "uint32" },
    { name: "maxPrice", type: "uint256" },
    { name: "policy", type: "uint8" },
    { name: "policyParam", type: "uint64" },
    { name: "mediationFee", type: "uint256" },
    { name: "mediators", type: "address[]" },
    { name: "moduleCreator", type: "address" },
    { name: "royaltyBps", type: "uint16" },
    { name: "timeoutSeconds", type: "uint64" },
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
    { name: "deadline", type: "uint64" },
    { name: "policy", type: "uint8" },
    { name: "policyParam", type: "uint64" },
    { name: "mediationFee", type: "uint256" },
    { name: "mediators", type: "bytes32" },
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
  DealProgress: [
    { name: "dealId", type: "bytes32" },
    { name: "provider", type: "address" },
    { name: "status", type: "string" },
    { name: "txHash", type: "bytes32" },
    { name: "at", type: "uint64" },
    { name: "error", type: "string" },
  ],
} as const;

export type PrimaryType = keyof typeof types;

/** The message shapes, as viem wants them (bigint for uint64/uint256). */
export interface JobOfferMessage {
  jobCreator: Address;
  module: string;
  inputs: string;
  cpu: number;
  memoryMb: number;
  gpu: number;
  vramMb: number;
  maxPrice: bigint;
  policy: number;
  policyParam: bigint;
  mediationFee: bigint;
  mediators: Address[];
  moduleCreator: Address;
  royaltyBps: number;
  timeoutSeconds: bigint;
  expiresAt: bigint;
  nonce: bigint;
}

export interface ResourceOfferMessage {
  provider: Address;
  cpu: number;
  memoryMb: number;
  gpu: number;
  vramMb: number;
  price: bigint;
  collateral: bigint;
  modules: string[];
  mediators: Address[];
  expiresAt: bigint;
  nonce: bigint;
}

export interface DealMessage {
  jobCreator: Address;
  provider: Address;
  jobOffer: Hex;
  resourceOffer: Hex;
  price: bigint;
  collateral: bigint;
  deadline: bigint;
  policy: number;
  policyParam: bigint;
  /** Paid to the mediator by whoever a mediation proves wrong. */
  mediationFee: bigint;
  /** `mediatorSetHash` of the mediators both parties accept; zero when they share none. */
  mediators: Hex;
  /** Receives `royaltyBps` of the price whenever the provider is paid. */
  moduleCreator: Address;
  royaltyBps: number;
}

export interface ResultMessage {
  dealId: Hex;
  provider: Address;
  result: string;
  exitCode: number;
}

/**
 * A provider's report on its deal, posted to the solver (never to the contracts). `txHash` is
 * zero when there is none, `error` empty; `at` (unix seconds, the provider's clock) orders the
 * reports, so an older one cannot be replayed to move the deal backwards.
 */
export interface DealProgressMessage {
  dealId: Hex;
  provider: Address;
  status: string;
  txHash: Hex;
  at: bigint;
  error: string;
}

interface MessageOf {
  JobOffer: JobOfferMessage;
  ResourceOffer: ResourceOfferMessage;
  Deal: DealMessage;
  Result: ResultMessage;
  DealProgress: DealProgressMessage;
}

/** Who must have signed each record. */
const signerField = {
  JobOffer: "jobCreator",
  ResourceOffer: "provider",
  Deal: undefined, // signed by both parties
  Result: "provider",
  DealProgress: "provider",
} as const;

function typedData<P extends PrimaryType>(domain: Domain, primaryType: P, message: MessageOf[P]) {
  return {
    domain: { name: DOMAIN_NAME, version: DOMAIN_VERSION, chainId: domain.chainId, verifyingContract: domain.verifyingContract },
    types,
    primaryType,
    message,
  } as const;
}

/** The EIP-712 digest: the id of offers and deals, and what signatures sign. */
export function hashRecord<P extends PrimaryType>(domain: Domain, primaryType: P, message: MessageOf[P]): Hex {
  return hashTypedData(typedData(domain, primaryType, message) as never);
}

export async function signRecord<P extends PrimaryType>(
  account: LocalAccount,
  domain: Domain,
  primaryType: P,
  message: MessageOf[P],
): Promise<Hex> {
  return account.signTypedData(typedData(domain, primaryType, message) as never);
}

/**
 * Verify that `signature` over the record was made by `signer`. Throws BAD_SIGNATURE naming
 * `field` otherwise. For records with a signer field, `signer` defaults to that field.
 */
export async function verifyRecord<P extends PrimaryType>(
  domain: Domain,
  primaryType: P,
  message: MessageOf[P],
  signature: Hex,
  opts: { signer?: Address; field?: string } = {},
): Promise<void> {
  const key = signerField[primaryType];
  const expected = opts.signer ?? (key ? ((message as unknown as Record<string, Address>)[key]) : undefined);
  const field = opts.field ?? "signature";
  if (!expected) throw new LilyError({ code: "INTERNAL", message: `verifyRecord(${primaryType}) needs an explicit signer` });
  // REJECT: high-s signatures are malleable copies; the contracts (OpenZeppelin ECDSA) refuse them
  if (/^0x[0-9a-fA-F]{130}$/.test(signature) && BigInt(`0x${signature.slice(66, 130)}`) > SECP256K1_HALF_N) {
    throw new LilyError({ code: "BAD_SIGNATURE", field, message: `${field}: non-canonical (high-s) ${primaryType} signature` });
  }
  let recovered: Address;
  try {
    recovered = await recoverTypedDataAddress({ ...typedData(domain, primaryType, message), signature } as never);
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
