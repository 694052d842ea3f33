// Finding disputes: the dispute events of the LilyDeals contract, by topic, in block ranges from
// where the last scan stopped. Pure chain reads; the caller records what was found together with
// the new cursor.
import { formatLog, parseEventLogs, toHex, type Abi, type Hex, type RpcLog } from "viem";
import type { LilyClient } from "@lily/chain";
import type { DisputeSighting } from "./dispute.ts";
import type { DisputeEvent } from "./disputeEvents.ts";

/** The disputes announced in blocks [fromBlock, toBlock], oldest first. */
export async function scanDisputes(client: LilyClient, events: DisputeEvent[], fromBlock: number, toBlock: number): Promise<DisputeSighting[]> {
  if (events.length === 0 || fromBlock > toBlock) return [];
  const raw = (await client.publicClient.request({
    method: "eth_getLogs",
    params: [{ address: client.addresses.deals, fromBlock: toHex(fromBlock), toBlock: toHex(toBlock), topics: [events.map((e) => e.selector)] }],
  })) as RpcLog[];
  const logs = parseEventLogs({ abi: events.map((e) => e.item) as Abi, logs: raw.map((l) => formatLog(l)) }) as unknown as {
    eventName: string;
    args: Record<string, unknown>;
    transactionHash: Hex;
    blockNumber: bigint;
    logIndex: number;
  }[];
  const sightings: DisputeSighting[] = [];
  for (const log of logs.sort((a, b) => Number(a.blockNumber - b.blockNumber) || a.logIndex - b.logIndex)) {
    const def = events.find((e) => e.name === log.eventName);
    if (!def || (def.asksMediator && !def.asksMediator(log.args))) continue;
    const key = log.args[def.keyArg];
    if (typeof key !== "string") continue;
    sightings.push({ key: key.toLowerCase() as Hex, kind: def.kind, event: def.name, txHash: log.transactionHash, blockNumber: Number(log.blockNumber) });
  }
  return sightings;
}
