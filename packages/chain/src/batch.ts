// What a batch transaction did to each of its items, read from its receipt: every item either
// went ahead (its usual event) or was skipped with `DealSkipped(dealId, index, reason)`, where
// `reason` is the selector of the custom error the single-deal function would have reverted with.
import { parseEventLogs, toFunctionSelector, type Hex, type TransactionReceipt } from "viem";
import { lilyDealsAbi } from "./generated/artifacts.ts";
import { LilyError } from "@lily/protocol";
import { lilyErrorsAbi } from "./errors.ts";

/** One item a batch left as it was, and why. */
export interface SkippedItem {
  /** Its position in the batch as sent. */
  index: number;
  dealId: Hex;
  /** The custom error the single-deal call would have reverted with, e.g. `DealsAlreadyOpened`. */
  reason: string;
}

// Error selectors use the same derivation as function selectors: the first 4 bytes of the
// keccak of the signature. Built at the first skip, not at import: hashing every error's
// signature cost every process that loads the chain client (`lily run` too) ~3 ms of start-up.
let errorNames: Map<Hex, string> | undefined;

/** The error name of a `DealSkipped` reason (the raw selector when it is not a Lily error). */
export function skipReason(selector: Hex): string {
  errorNames ??= new Map(lilyErrorsAbi.map((e) => [toFunctionSelector(`function ${e.name}(${e.inputs.map((i) => i.type).join(",")})`), e.name] as const));
  return errorNames.get(selector.toLowerCase() as Hex) ?? selector;
}

/** The skipped items of a batch transaction, in batch order. */
export function skippedItems(receipt: TransactionReceipt): SkippedItem[] {
  return parseEventLogs({ abi: lilyDealsAbi, logs: receipt.logs, eventName: "DealSkipped" })
    .map((log) => ({ index: Number(log.args.index), dealId: log.args.dealId, reason: skipReason(log.args.reason) }))
    .sort((a, b) => a.index - b.index);
}

/** The largest batch the actions accept: far below a block's gas at ~50k gas an item. */
export const MAX_BATCH = 500;

/** Refuse an empty batch or one above MAX_BATCH before anything is sent. */
export function checkBatchSize(field: string, length: number): void {
  if (length === 0 || length > MAX_BATCH) {
    throw new LilyError({ code: "INVALID_INPUT", field, message: `${field}: a batch holds 1 to ${MAX_BATCH} items, got ${length}` });
  }
}
