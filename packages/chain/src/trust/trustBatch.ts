// What a trust batch transaction did, read from its receipt or the chain's logs: the batch's
// leaves (needed by anyone who proves a deal of it later) and each skipped item with its reason.
import { encodeEventTopics, formatLog, parseEventLogs, toHex, type Address, type Hex, type RpcLog, type TransactionReceipt } from "viem";
import { LilyError } from "@lily/protocol";
import { lilyTrustDealsAbi } from "../generated/artifacts.ts";
import type { LilyClient } from "../client.ts";
import { skipReason } from "../batch.ts";
import { withLilyErrors } from "../errors.ts";
import { trustDealsAddress, trustLeaf, type TrustTerms } from "./trustDeal.ts";

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

/** A `DealsOpened` event as the chain holds it, with where it is. */
export interface TrustBatchLog extends TrustBatchOpened {
  blockNumber: bigint;
  blockHash: Hex;
  txHash: Hex;
}

/** The `DealsOpened` events from `fromBlock` (default: the deployment's block) on, of one batch or all. */
async function dealsOpenedLogs(client: LilyClient, opts: { batchNo?: bigint; fromBlock?: bigint }): Promise<TrustBatchLog[]> {
  const address = trustDealsAddress(client.addresses);
  return withLilyErrors(async () => {
    const topics = encodeEventTopics({ abi: lilyTrustDealsAbi, eventName: "DealsOpened", args: opts.batchNo === undefined ? {} : { batchNo: opts.batchNo } });
    const fromBlock = opts.fromBlock ?? BigInt(client.addresses.deployBlock);
    const raw = (await client.publicClient.request({
      method: "eth_getLogs",
      params: [{ address, fromBlock: toHex(fromBlock), toBlock: "latest", topics }],
    })) as RpcLog[];
    return parseEventLogs({ abi: lilyTrustDealsAbi, eventName: "DealsOpened", logs: raw.map((l) => formatLog(l)) }).map((log) => ({
      batchNo: log.args.batchNo,
      leaves: [...log.args.leaves],
      blockNumber: log.blockNumber,
      blockHash: log.blockHash,
      txHash: log.transactionHash,
    }));
  });
}

export interface TrustBatchParameters {
  batchNo: bigint;
}

/**
 * Batch `batchNo` as the chain recorded it (one eth_getLogs by the batch number's topic), for a
 * party that did not open it: a provider whose deals a solver opened, a job creator timing out.
 * NOT_FOUND when no such batch was submitted.
 */
export async function trustBatch(client: LilyClient, { batchNo }: TrustBatchParameters): Promise<TrustBatchLog> {
  const [log] = await dealsOpenedLogs(client, { batchNo });
  if (!log) throw new LilyError({ code: "NOT_FOUND", field: "batchNo", message: `no trust batch ${batchNo} on this chain` });
  return log;
}

export interface FindTrustDealParameters {
  provider: Address;
  terms: TrustTerms;
  /** Where to start looking: the block before the deal was signed is enough (default: the deployment's). */
  fromBlock?: bigint;
}

/**
 * The batch that opened a trust deal, and the deal's place in it, found by the deal's leaf among
 * the `DealsOpened` events since `fromBlock`; undefined while it has not opened. For a party that
 * signed a deal someone else opens (a job creator following its job).
 */
export async function findTrustDeal(
  client: LilyClient,
  { provider, terms, fromBlock }: FindTrustDealParameters,
): Promise<(TrustBatchLog & { index: number }) | undefined> {
  const leaf = trustLeaf(provider, terms).toLowerCase();
  for (const log of await dealsOpenedLogs(client, { fromBlock })) {
    const index = log.leaves.findIndex((l) => l.toLowerCase() === leaf);
    if (index >= 0) return { ...log, index };
  }
  return undefined;
}
