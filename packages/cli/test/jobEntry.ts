// A journal entry as the SDK writes it when a job offer is sent, for tests of the journal and `lily jobs`.
import { cidForBytes, type JobOffer } from "@lily/protocol";
import type { JobEntry } from "@lily/sdk";

export const offer: JobOffer = {
  jobCreator: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
  module: cidForBytes(new TextEncoder().encode("module")),
  inputs: cidForBytes(new TextEncoder().encode("inputs")),
  cpu: 1,
  memoryMb: 64,
  gpu: 0,
  vramMb: 0,
  maxPrice: 2n * 10n ** 18n,
  policy: 0,
  policyParam: 0n,
  mediationFee: 0n,
  mediators: [],
  moduleCreator: "0x0000000000000000000000000000000000000000",
  royaltyBps: 0,
  timeoutSeconds: 60n,
  expiresAt: 1_900_000_000n,
  nonce: 42n,
};

/** A submitted job whose id ends in `id` (hex digits), changed by `more`. */
export function jobEntry(id: string, createdAt: number, more: Partial<JobEntry> = {}): JobEntry {
  return {
    jobOfferId: `0x${id.padStart(64, "0")}`,
    module: "cowsay@1.0.0",
    offer,
    signature: `0x${"11".repeat(65)}`,
    stage: "submitted",
    createdAt,
    ...more,
  };
}
