// What a trust batch transaction did, read from its receipt or the chain's logs: the batch's
// leaves (needed by anyone who proves a deal of it later) and each skipped item with its reason.
import { encodeEventTopics, formatLog, parseEventLogs, toHex, type Hex, type RpcLog, type TransactionReceipt } from "viem";
import { LilyError } from "@lily/protocol";
import { lilyTrustDealsAbi } from "../generated/artifacts.ts";
import type { LilyClient } from "../client.ts";
import { skipReason } from "../batch.ts";
import { withLilyErrors } from "../errors.ts";
import { trustDealsAddress } from "./trustDeal.ts";

/** One batch item left as it was, and why (the custom error's name, e.g. `TrustNonceUsed`). */
export interface TrustSkippedItem {
  /** Its position in the call's items, as sent. */
  index: number;
  reason: string;
}

/** The skipped items of a LilyTrustDeals transaction, in item order. */
export function trustSkippedItems(receipt: TransactionReceipt): TrustSkippedItem[] {
  return parseEventLogs({ abi: lilyTrustDealsAbi, logs: receipt.logs, eventName: "Skipped" })
    .map((log) => ({ index: Number(log.args.index), reason: skipReason(log.args.reason) }))
    .sort((a, b) => a.index - b.index);
}

/** The nonces a `DealsSettled` or `DealsTimedOut` event packs, 8 bytes each, big-endian. */
export function unpackNonces(packed: Hex): bigint[] {
  const out: bigint[] = [];
  for (let at = 2; at < packed.length; at += 16) out.push(BigInt(`0x${packed.slice(at, at + 16)}`));
  return out;
}

/** The nonces a LilyTrustDeals settle or timeout receipt moved, in the order they were sent. */
export function trustMovedNonces(receipt: TransactionReceipt, eventName: "DealsSettled" | "DealsTimedOut"): bigint[] {
  const [log] = parseEventLogs({ abi: lilyTrustDealsAbi, logs: receipt.logs, eventName });
  return log ? unpackNonces(log.args.nonces) : [];
}

/** A batch as its `DealsOpened` event tells it: each item's leaf (`trustLeaf`), zero where skipped. */
export interface TrustBatchOpened {
  batchNo: bigint;
  leaves: Hex[];
}

/** The `DealsOpened` event of a LilyTrustDeals.openDeals receipt. */
export function trustBatchOpened(receipt: TransactionReceipt): TrustBatchOpened {
  const [log] = parseEventLogs({ abi: lilyTrustDealsAbi, logs: receipt.logs, eventName: "DealsOpened" });
  if (!log) throw new LilyError({ code: "INTERNAL", message: `transaction ${receipt.transactionHash} opened no trust batch` });
  return { batchNo: log.args.batchNo, leaves: [...log.args.leaves] };
}

export interface TrustBatchParameters {
  batchNo: bigint;
}

/**
 * Batch `batchNo` as the chain recorded it (one eth_getLogs by the batch number's topic), for a
 * party that did not open it: a provider whose deals a solver opened, a job creator timing out.
 * NOT_FOUND when no such batch was submitted.
 */
export async function trustBatch(client: LilyClient, { batchNo }: TrustBatchParameters): Promise<TrustBatchOpened> {
  const address = trustDealsAddress(client.addresses);
  return withLilyErrors(async () => {
    const topics = encodeEventTopics({ abi: lilyTrustDealsAbi, eventName: "DealsOpened", args: { batchNo } });
    const raw = (await client.publicClient.request({
      method: "eth_getLogs",
      params: [{ address, fromBlock: toHex(client.addresses.deployBlock), toBlock: "latest", topics }],
    })) as RpcLog[];
    const [log] = parseEventLogs({ abi: lilyTrustDealsAbi, eventName: "DealsOpened", logs: raw.map((l) => formatLog(l)) });
    if (!log) throw new LilyError({ code: "NOT_FOUND", field: "batchNo", message: `no trust batch ${batchNo} on this chain` });
    return { batchNo, leaves: [...log.args.leaves] };
  });
}
