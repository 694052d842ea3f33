// The LilyDeals events that move a deal, and what each says about it: the only place that names
// them. The solver scans them by topic in block ranges from where its last scan stopped (as the
// mediator scans disputes); the caller applies what was found together with the new cursor.
import { encodeEventTopics, formatLog, parseEventLogs, toHex, type Hex, type RpcLog } from "viem";
import { lilyDealsAbi, type LilyClient } from "@lily/chain";

/** What the chain shows of a deal: opened (funds locked), committed (a result, whatever came after), timed out. */
export type ChainFact = "opened" | "committed" | "timed-out";

export const dealFacts = {
  DealOpened: "opened",
  ResultCommitted: "committed",
  // Each of these ends a deal whose result was committed: settled, slashed after a ruling or a
  // tally, or unwound when no mediator ruled. Seen alone (a scan that began late), they still mean it.
  DealSettled: "committed",
  DealSlashed: "committed",
  MediationTimedOut: "committed",
  DealTimedOut: "timed-out",
} as const satisfies Record<string, ChainFact>;

type FactEvent = keyof typeof dealFacts;
const eventNames = Object.keys(dealFacts) as FactEvent[];
const selectors = eventNames.map((eventName) => encodeEventTopics({ abi: lilyDealsAbi, eventName })[0]);

export interface ChainSighting {
  dealId: Hex;
  fact: ChainFact;
  event: FactEvent;
  txHash: Hex;
  blockNumber: number;
}

/** The deal facts announced in blocks [fromBlock, toBlock], oldest first. */
export async function scanDealEvents(client: LilyClient, fromBlock: number, toBlock: number): Promise<ChainSighting[]> {
  if (fromBlock > toBlock) return [];
  const raw = (await client.publicClient.request({
    method: "eth_getLogs",
    params: [{ address: client.addresses.deals, fromBlock: toHex(fromBlock), toBlock: toHex(toBlock), topics: [selectors] }],
  })) as RpcLog[];
  const logs = parseEventLogs({ abi: lilyDealsAbi, eventName: eventNames, logs: raw.map((l) => formatLog(l)) });
  return logs
    .sort((a, b) => Number(a.blockNumber - b.blockNumber) || a.logIndex - b.logIndex)
    .map((log) => ({
      dealId: (log.args as { dealId: Hex }).dealId.toLowerCase() as Hex,
      fact: dealFacts[log.eventName as FactEvent],
      event: log.eventName as FactEvent,
      txHash: log.transactionHash,
      blockNumber: Number(log.blockNumber),
    }));
}
