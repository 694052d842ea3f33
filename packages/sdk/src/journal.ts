// The job creator's memory of its jobs. The SDK only needs this interface; the CLI backs it with
// SQLite so a crashed `lily run` can be resumed, and so the client never signs two deals for one
// job offer (which could make it pay twice).
import type { Hex } from "viem";
import type { Deal, JobOffer } from "@lily/protocol";

/**
 * committed: a result is on chain and the policy has not settled it yet (window, audit, mediation).
 * no-match: no provider matched the job offer in time; nothing was locked (`error` says why).
 */
export type JobStage = "submitted" | "no-match" | "signed" | "opened" | "committed" | "completed" | "refunded" | "failed";

export interface JobEntry {
  jobOfferId: Hex;
  module: string;
  offer: JobOffer;
  signature: Hex;
  dealId?: Hex;
  deal?: Deal;
  /** Under replicate(k): every replica's deal, all signed together (dealId/deal is the first). */
  replicas?: { dealId: Hex; deal: Deal }[];
  stage: JobStage;
  resultCid?: string;
  outDir?: string;
  error?: string;
  createdAt: number;
}

export interface JobJournal {
  get(jobOfferId: Hex): JobEntry | undefined;
  put(entry: JobEntry): void;
  list(): JobEntry[];
}

/** An in-memory journal, for callers that do not need to survive a restart. */
export function memoryJournal(): JobJournal {
  const m = new Map<string, JobEntry>();
  return {
    get: (id) => m.get(id.toLowerCase()),
    put: (e) => void m.set(e.jobOfferId.toLowerCase(), e),
    list: () => [...m.values()],
  };
}
