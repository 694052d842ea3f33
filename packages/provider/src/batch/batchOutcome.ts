// What one item of a batched chain call gets back, whichever contract carried it: its share of
// the transaction, or the error its own single call would have thrown (what refusal() reads).
import type { Hex } from "viem";
import type { BlockRef, SkippedItem } from "@lily/chain";
import { LilyError, type ErrorCode } from "@lily/protocol";
import type { ItemOutcome } from "./batcher.ts";

/** One item's share of the transaction that carried it. */
export interface Sent {
  txHash: Hex;
  /** Gas of the whole transaction. */
  gasUsed: bigint;
  /** How many items the transaction carried (1: the single call). */
  batchSize: number;
  /** The block that carried it. */
  block: BlockRef;
}

export interface Committed extends Sent {
  /** Whether its policy settled the deal in the same transaction (always under `trust`). */
  settled: boolean;
}

/** What the single call's decoded error would have been called, for the errors a skipped item can carry. */
const SKIP_CODES: Record<string, ErrorCode> = {
  EscrowInsufficientBalance: "INSUFFICIENT_DEPOSIT",
  DealsOpenByPassed: "DEADLINE_PASSED",
  DealsDeadlinePassed: "DEADLINE_PASSED",
};

/**
 * The error a skipped item's single call would have thrown: what refusal() reads is the same.
 * `said` is the contract's own reason when it differs (a LilyTrustDeals reason read as its LilyDeals peer).
 */
export function skippedError(s: SkippedItem, kind: string, said: string = s.reason): LilyError {
  return new LilyError({
    code: SKIP_CODES[s.reason] ?? "CHAIN_REVERT",
    message: `deal ${s.dealId} was skipped by ${kind} (item ${s.index}): ${said}`,
    details: { error: s.reason, dealId: s.dealId, index: s.index, ...(said !== s.reason && { said }) },
  });
}

/** Each item sent alone: its own outcome, as the single path gives it. */
export async function oneByOne<I, R>(items: I[], single: (item: I) => Promise<R>): Promise<ItemOutcome<R>[]> {
  return Promise.all(
    items.map((item) =>
      single(item).then(
        (value): ItemOutcome<R> => ({ ok: true, value }),
        (error): ItemOutcome<R> => ({ ok: false, error }),
      ),
    ),
  );
}
