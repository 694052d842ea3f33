// The terms of a plain job offer in tests: no GPU, the trust policy, no mediators, no royalty.
// Test offers spread these and name only what their test is about (module, price, memory, time).
import { zeroAddress } from "viem";
import type { JobOffer } from "@lily/protocol";

export const PLAIN_JOB_TERMS = {
  gpu: 0,
  vramMb: 0,
  policy: 0,
  policyParam: 0n,
  mediationFee: 0n,
  mediators: [],
  moduleCreator: zeroAddress,
  royaltyBps: 0,
} as const satisfies Partial<JobOffer>;
