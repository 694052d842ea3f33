// Signed offers and the deals they make, as the solver would hand them to a job creator: real
// keys, real EIP-712 signatures and ids, deals derived by protocol's deriveDeal. For the SDK's
// table tests; nothing here touches a network.
import type { Address, Hex, LocalAccount } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { keccak256, toHex } from "viem";
import {
  cidForBytes,
  deriveDeal,
  hashRecord,
  signRecord,
  sortedAddresses,
  type DealMessage,
  type Domain,
  type JobOffer,
  type ResourceOffer,
  type ResourceOfferRecord,
} from "@lily/protocol";

export const domain: Domain = { chainId: 31337, verifyingContract: "0x5FbDB2315678afecb367f032d93F642f64180aa3" };
export const NOW = 1_800_000_000;
export const LILY = 10n ** 18n;

/** A deterministic key per name, so failures are reproducible. */
export const account = (name: string): LocalAccount => privateKeyToAccount(keccak256(toHex(`lily sdk test key: ${name}`)));

export const jobCreator = account("job creator");
export const providers = [account("provider 1"), account("provider 2"), account("provider 3"), account("provider 4")];
export const mediator = account("mediator");
export const module = cidForBytes(new TextEncoder().encode("cowsay manifest"));
export const otherModule = cidForBytes(new TextEncoder().encode("primes manifest"));
export const inputs = cidForBytes(new TextEncoder().encode('{"message":"moo"}'));

export function jobOffer(o: Partial<JobOffer> = {}): { id: Hex; offer: JobOffer } {
  const offer: JobOffer = {
    jobCreator: jobCreator.address,
    module,
    inputs,
    cpu: 1,
    memoryMb: 64,
    gpu: 0,
    vramMb: 0,
    maxPrice: 5n * LILY,
    policy: 0,
    policyParam: 0n,
    mediationFee: 0n,
    mediators: [mediator.address],
    moduleCreator: "0x0000000000000000000000000000000000000000",
    royaltyBps: 0,
    timeoutSeconds: 60n,
    expiresAt: BigInt(NOW + 600),
    nonce: 7n,
    ...o,
  };
  return { id: hashRecord(domain, "JobOffer", offer), offer };
}

export async function resourceOffer(by: LocalAccount, o: Partial<ResourceOffer> = {}): Promise<ResourceOfferRecord> {
  const offer: ResourceOffer = {
    provider: by.address,
    cpu: 4,
    memoryMb: 4096,
    gpu: 0,
    vramMb: 0,
    price: 3n * LILY,
    collateral: 5n * LILY,
    modules: [module],
    mediators: [mediator.address],
    expiresAt: BigInt(NOW + 3600),
    nonce: 1n,
    ...o,
  };
  return {
    id: hashRecord(domain, "ResourceOffer", offer),
    offer,
    signature: await signRecord(by, domain, "ResourceOffer", offer),
    active: true,
    createdAt: NOW * 1000,
  };
}

/** The deal a solver proposes for these offers: open within a minute, then the job's time. */
export function proposed(job: { id: Hex; offer: JobOffer }, resource: ResourceOfferRecord, group?: readonly Address[]): DealMessage {
  return deriveDeal(job, resource, { openBy: BigInt(NOW + 60), ...(group && { group: sortedAddresses(group) }) });
}
