// Records and snapshots for the matcher's pure tests: a fixed clock, numbered addresses and ids,
// and parties with plenty of escrow unless a test says otherwise.
import type { Address, Hex } from "viem";
import { cidForBytes, type JobOffer, type JobOfferRecord, type ResourceOffer, type ResourceOfferRecord } from "@lily/protocol";
import { defaultFilters, defaultScores, NO_RESOURCES, type MatchContext, type Resources, type Snapshot } from "../src/index.ts";
import { PLAIN_JOB_TERMS } from "../../../test/support/jobOffers.ts";

export const NOW = 1_800_000_000;
export const addr = (n: number) => `0x${n.toString(16).padStart(40, "0")}` as Address;
export const id = (n: number) => `0x${n.toString(16).padStart(64, "0")}` as Hex;
export const wasm = cidForBytes(new TextEncoder().encode("primes.wasm"));
export const other = cidForBytes(new TextEncoder().encode("other.wasm"));
export const jc = addr(0xc0ffee);
export const mediatorA = addr(0xa);
export const mediatorB = addr(0xb);

export const job = (o: Partial<JobOffer> = {}): JobOffer => ({
  jobCreator: jc,
  module: wasm,
  inputs: wasm,
  cpu: 1,
  memoryMb: 512,
  ...PLAIN_JOB_TERMS,
  maxPrice: 100n,
  timeoutSeconds: 300n,
  expiresAt: BigInt(NOW + 3600),
  nonce: 1n,
  ...o,
});
export const offer = (o: Partial<ResourceOffer> = {}): ResourceOffer => ({
  provider: addr(1),
  cpu: 4,
  memoryMb: 4096,
  gpu: 0,
  vramMb: 0,
  price: 50n,
  collateral: 10n,
  modules: [wasm],
  mediators: [mediatorA],
  expiresAt: BigInt(NOW + 3600),
  nonce: 1n,
  ...o,
});
export const jobRecord = (n: number, o: Partial<JobOffer> = {}): JobOfferRecord => ({
  id: id(n),
  offer: job(o),
  signature: `0x${"00".repeat(65)}`,
  status: "open",
  dealIds: [],
  rejections: {},
  createdAt: n,
});
export const offerRecord = (n: number, o: Partial<ResourceOffer> = {}): ResourceOfferRecord => ({
  id: id(0x100 + n),
  offer: offer({ provider: addr(n), ...o }),
  signature: `0x${"00".repeat(65)}`,
  active: true,
  createdAt: n,
});
export const RICH = 10n ** 24n;
export const ctx = (o: Partial<MatchContext> = {}): MatchContext => ({
  now: BigInt(NOW),
  used: NO_RESOURCES,
  excluded: {},
  escrow: { jobCreator: { free: RICH, held: 0n }, provider: { free: RICH, held: 0n } },
  ...o,
});
/** Every party of these tests has plenty of free escrow unless `escrow` says otherwise. */
export const funded = (o: [Address, bigint][] = []) =>
  new Map<Address, bigint>([[jc, RICH], ...Array.from({ length: 16 }, (_, i) => [addr(i + 1), RICH] as [Address, bigint]), ...o]);
export const snapshot = (o: Partial<Snapshot>): Snapshot => ({
  jobs: [],
  offers: [],
  used: new Map(),
  excluded: {},
  escrow: funded(),
  held: new Map(),
  lastOpenBy: new Map(),
  ...o,
});
export const config = { filters: defaultFilters, scores: defaultScores, signWindowSeconds: 60 };
export const used = (r: Partial<Resources>): Resources => ({ ...NO_RESOURCES, ...r });
