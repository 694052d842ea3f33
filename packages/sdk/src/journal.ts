// The job creator's memory of its jobs. The SDK only needs this interface; the CLI backs it with
// SQLite so a crashed `lily run` can be resumed, and so the client never holds two signed deals
// for one job offer that could both open (which could make it pay twice): a new match is signed
// only once the chain's clock is past the previous deal's openBy with the deal unopened.
import type { Hex } from "viem";
import type { Deal, JobOffer } from "@lily/protocol";
import type { SignedDeal } from "./nextStep.ts";

/**
 * committed: a result is on chain and the policy has not settled it yet (window, audit, mediation).
 * no-match: the job creator gave up on the job offer before anything was locked (no match in time,
 *   a match that never opened, or the caller stopped waiting) and cancelled it; `error` says why.
 * failed: the job ended without a result to deliver (a proposal refused, a result that differs
 *   from the one committed on chain); `error` says why.
 */
export type JobStage = "submitted" | "no-match" | "signed" | "opened" | "committed" | "completed" | "refunded" | "failed";

export interface JobEntry {
  jobOfferId: Hex;
  module: string;
  offer: JobOffer;
  /** The job offer's signature; absent for an offer refused before it was signed (no provider could take it). */
  signature?: Hex;
  dealId?: Hex;
  deal?: Deal;
  /** Under replicate(k): every replica's deal, all signed together (dealId/deal is the first). */
  replicas?: { dealId: Hex; deal: Deal }[];
  /**
   * Deals signed for this job offer that were never opened by their openBy, so can never open:
   * nothing was locked, and the job creator may sign a new match. They are never signed again.
   */
  lapsed?: Hex[];
  /**
   * A block at or before which the job's deal routed to LilyTrustDeals had not opened: the chain is
   * searched for its opening from there (that contract stores no opening per deal).
   */
  trustFromBlock?: number;
  /** The job's deal routed to LilyTrustDeals: the nonce its provider picked and both parties signed under. */
  trustNonce?: bigint;
  stage: JobStage;
  resultCid?: string;
  outDir?: string;
  error?: string;
  createdAt: number;
}

/** The deals the journal says this job creator signed, in journal order. */
export function signedDeals(entry: JobEntry): SignedDeal[] {
  // Replicas never open on LilyTrustDeals (trust does not replicate): no nonce.
  if (entry.replicas) return entry.replicas.map((r) => ({ ...r, trustNonce: undefined }));
  return entry.dealId && entry.deal ? [{ dealId: entry.dealId, deal: entry.deal, trustNonce: entry.trustNonce }] : [];
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
