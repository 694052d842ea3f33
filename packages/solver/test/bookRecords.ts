// The order book tests' records: one job offer, one resource offer and the deal they make, as
// the book stores them (orderBook.test.ts, trustBook.test.ts).
import type { Hex } from "viem";
import { cidForBytes, type DealRecord, type JobOfferRecord, type ResourceOfferRecord } from "@lily/protocol";

export const hex = (b: string) => `0x${b.repeat(32)}` as Hex;
export const jc = "0x00000000000000000000000000000000000000C1" as const;
export const rp = "0x00000000000000000000000000000000000000A1" as const;
export const wasm = cidForBytes(new TextEncoder().encode("primes.wasm"));
export const sig = `0x${"11".repeat(65)}` as Hex;

export const job: JobOfferRecord = {
  id: hex("01"),
  signature: sig,
  status: "open",
  dealIds: [],
  rejections: {},
  createdAt: 1,
  offer: {
    jobCreator: jc,
    module: wasm,
    inputs: wasm,
    cpu: 1,
    memoryMb: 1,
    gpu: 0,
    vramMb: 0,
    maxPrice: 5n,
    policy: 0,
    policyParam: 0n,
    mediationFee: 0n,
    mediators: [],
    moduleCreator: "0x0000000000000000000000000000000000000000",
    royaltyBps: 0,
    timeoutSeconds: 60n,
    expiresAt: 2n ** 64n - 1n,
    nonce: 1n,
  },
};
export const offer: ResourceOfferRecord = {
  id: hex("02"),
  signature: sig,
  active: true,
  createdAt: 1,
  offer: {
    provider: rp,
    cpu: 1,
    memoryMb: 1,
    gpu: 0,
    vramMb: 0,
    price: 5n,
    collateral: 1n,
    modules: [wasm],
    mediators: [],
    expiresAt: 2n ** 64n - 1n,
    nonce: 1n,
  },
};
export const deal: DealRecord = {
  id: hex("03"),
  jobOfferId: job.id,
  resourceOfferId: offer.id,
  module: wasm,
  inputs: wasm,
  status: "proposed",
  updatedAt: 1,
  deal: {
    jobCreator: jc,
    provider: rp,
    jobOffer: job.id,
    resourceOffer: offer.id,
    price: 5n,
    collateral: 1n,
    openBy: 40n,
    deadline: 100n,
    policy: 0,
    policyParam: 0n,
    mediationFee: 0n,
    mediators: `0x${"00".repeat(32)}`,
    replicas: `0x${"00".repeat(32)}`,
    moduleCreator: "0x0000000000000000000000000000000000000000",
    royaltyBps: 0,
  },
};
