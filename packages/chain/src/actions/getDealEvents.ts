import { encodeEventTopics, formatLog, parseEventLogs, toHex, type Hash, type Hex, type RpcLog } from "viem";
import { lilyDealsAbi } from "../generated/artifacts.ts";
import type { LilyClient } from "../client.ts";
import { withLilyErrors } from "../errors.ts";

/** Every event that indexes a deal id first, i.e. a deal's whole history. */
export const dealEventNames = [
  "DealOpened",
  "ResultCommitted",
  "DealChallenged",
  "AuditDrawn",
  "MediationRequested",
  "MediatorDrawLocked",
  "Ruled",
  "MediationFeePaid",
  "RoyaltyPaid",
  "DealSettled",
  "DealSlashed",
  "DealTimedOut",
  "MediationTimedOut",
] as const;
type DealEventName = (typeof dealEventNames)[number];
type DealLog = ReturnType<typeof parseEventLogs<typeof lilyDealsAbi, true, DealEventName[]>>[number];

/** One event in a deal's life, with the transaction that emitted it. */
export type DealEvent = DealLog extends infer L
  ? L extends DealLog
    ? {
        name: L["eventName"];
        args: L["args"];
        txHash: Hash;
        blockNumber: bigint;
        logIndex: number;
        /** Gas used by the whole transaction (ResultCommitted and DealSettled share one). */
        gasUsed: bigint;
      }
    : never
  : never;

export interface GetDealEventsParameters {
  dealId: Hex;
}

/** A deal event without its transaction's gas: what a party following a deal needs. */
export type DealLogEvent = DealEvent extends infer E ? (E extends DealEvent ? Omit<E, "gasUsed"> : never) : never;

/**
 * A deal's history, oldest first: opened, result committed, then per its policy challenged,
 * audit drawn, mediation requested, ruled, and how it ended (settled with any royalty, slashed,
 * timed out, mediation timed out). A replica group's tally (ReplicasTallied) is indexed by job
 * offer, not deal id, and is not included; each replica's own outcome is. One eth_getLogs; the
 * gas of each transaction needs getDealEvents (a receipt per transaction).
 */
export async function getDealLogs(client: LilyClient, { dealId }: GetDealEventsParameters): Promise<DealLogEvent[]> {
  const { publicClient, addresses } = client;
  return withLilyErrors(async () => {
    const selectors = dealEventNames.map((eventName) => encodeEventTopics({ abi: lilyDealsAbi, eventName })[0]);
    // Every deal event indexes the deal id first, so one query by topic finds them all.
    const raw = (await publicClient.request({
      method: "eth_getLogs",
      params: [{ address: addresses.deals, fromBlock: toHex(addresses.deployBlock), toBlock: "latest", topics: [selectors, dealId] }],
    })) as RpcLog[];
    const logs = parseEventLogs({ abi: lilyDealsAbi, eventName: [...dealEventNames], logs: raw.map((log) => formatLog(log)) });
    return logs.map(
      (log) =>
        ({
          name: log.eventName,
          args: log.args,
          txHash: log.transactionHash,
          blockNumber: log.blockNumber,
          logIndex: log.logIndex,
        }) as DealLogEvent,
    );
  });
}

/** getDealLogs with the gas each event's transaction used (for receipts and `lily jobs`). */
export async function getDealEvents(client: LilyClient, params: GetDealEventsParameters): Promise<DealEvent[]> {
  const logs = await getDealLogs(client, params);
  return withLilyErrors(async () => {
    const txHashes = [...new Set(logs.map((log) => log.txHash))];
    const receipts = await Promise.all(txHashes.map((hash) => client.publicClient.getTransactionReceipt({ hash })));
    const gasUsed = new Map(receipts.map((r) => [r.transactionHash, r.gasUsed]));
    return logs.map((log) => ({ ...log, gasUsed: gasUsed.get(log.txHash)! }) as DealEvent);
  });
}
