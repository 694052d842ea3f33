// A routed trust deal's history on LilyTrustDeals, for the parties and pages that show a job: the
// batch that opened it, and the batch call that settled or timed it out. Each transaction carries
// many deals, so each event says how many (`batchSize`): a deal's share of the gas is the
// transaction's gas over it.
import { encodeEventTopics, formatLog, parseEventLogs, toHex, type Hash, type RpcLog } from "viem";
import { lilyTrustDealsAbi } from "../generated/artifacts.ts";
import type { LilyClient } from "../client.ts";
import { withLilyErrors } from "../errors.ts";
import { trustDealsAddress } from "./trustDeal.ts";
import { unpackNonces } from "./trustBatch.ts";
import { getDealEvents, type DealEvent } from "../actions/getDealEvents.ts";
import { locateTrustDeal, onTrustDeals, type RoutedDeal } from "./dealRoute.ts";

export interface TrustDealEvent {
  name: "DealsOpened" | "DealsSettled" | "DealsTimedOut";
  args: { batchNo: bigint };
  txHash: Hash;
  blockNumber: bigint;
  logIndex: number;
  /** Gas used by the whole transaction, which carried `batchSize` deals. */
  gasUsed: bigint;
  batchSize: number;
}

export interface TrustDealEventsParameters extends RoutedDeal {
  /** Where to start looking for its opening (default: the deployment's block). */
  fromBlock?: bigint;
}

/** The deal's events, oldest first: none before it opens; then its opening, then how it ended. */
export async function trustDealEvents(client: LilyClient, params: TrustDealEventsParameters): Promise<TrustDealEvent[]> {
  const opened = await locateTrustDeal(client, params);
  if (!opened) return [];
  const endings = await trustDealEndings(client, { ...params, batchNo: opened.batchNo, fromBlock: opened.blockNumber });
  return withLilyErrors(async () => {
    const receipts = await Promise.all([opened.txHash, ...endings.map((e) => e.txHash)].map((hash) => client.publicClient.getTransactionReceipt({ hash })));
    const gas = (hash: Hash) => receipts.find((r) => r.transactionHash === hash)!.gasUsed;
    const openedTopic = encodeEventTopics({ abi: lilyTrustDealsAbi, eventName: "DealsOpened" })[0];
    const openLog = receipts[0]!.logs.find((l) => l.topics[0] === openedTopic);
    return [
      {
        name: "DealsOpened" as const,
        args: { batchNo: opened.batchNo },
        txHash: opened.txHash,
        blockNumber: opened.blockNumber,
        logIndex: openLog?.logIndex ?? 0,
        gasUsed: gas(opened.txHash),
        batchSize: opened.leaves.length,
      },
      ...endings.map((e) => ({ ...e, args: { batchNo: opened.batchNo }, gasUsed: gas(e.txHash) })),
    ];
  });
}

/** How a routed trust deal ended: the DealsSettled or DealsTimedOut events of its batch and provider that pack its nonce. */
export interface TrustDealEnding {
  name: "DealsSettled" | "DealsTimedOut";
  txHash: Hash;
  blockNumber: bigint;
  logIndex: number;
  /** How many deals the call moved. */
  batchSize: number;
}

/** The endings of a routed trust deal opened in `batchNo`, searched from `fromBlock` (its opening's block); oldest first. */
export async function trustDealEndings(
  client: LilyClient,
  { deal, trustNonce, batchNo, fromBlock }: RoutedDeal & { batchNo: bigint; fromBlock: bigint },
): Promise<TrustDealEnding[]> {
  if (trustNonce === undefined) return []; // never signed by its provider, so never opened
  const nonce = trustNonce;
  return withLilyErrors(async () => {
    const topics = encodeEventTopics({ abi: lilyTrustDealsAbi, eventName: "DealsSettled", args: { batchNo, provider: deal.provider } });
    const timedOut = encodeEventTopics({ abi: lilyTrustDealsAbi, eventName: "DealsTimedOut" })[0];
    // Both endings index the batch and the provider the same way: one query for either.
    const raw = (await client.publicClient.request({
      method: "eth_getLogs",
      params: [
        {
          address: trustDealsAddress(client.addresses),
          fromBlock: toHex(fromBlock),
          toBlock: "latest",
          topics: [[topics[0]!, timedOut!], ...topics.slice(1)] as never,
        },
      ],
    })) as RpcLog[];
    return parseEventLogs({ abi: lilyTrustDealsAbi, eventName: ["DealsSettled", "DealsTimedOut"], logs: raw.map((l) => formatLog(l)) })
      .map((log) => ({ log, nonces: unpackNonces(log.args.nonces) }))
      .filter(({ nonces }) => nonces.includes(nonce))
      .map(({ log, nonces }) => ({
        name: log.eventName,
        txHash: log.transactionHash,
        blockNumber: log.blockNumber,
        logIndex: log.logIndex,
        batchSize: nonces.length,
      }));
  });
}

/** A deal's events from whichever contract holds it (getDealEvents, or trustDealEvents for a routed trust deal). */
export type RoutedDealEvent = DealEvent | TrustDealEvent;

export function routedDealEvents(client: LilyClient, params: TrustDealEventsParameters): Promise<RoutedDealEvent[]> {
  return onTrustDeals(client.addresses, params.deal) ? trustDealEvents(client, params) : getDealEvents(client, { dealId: params.dealId });
}
