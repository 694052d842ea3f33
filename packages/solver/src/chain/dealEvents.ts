// The chain events that move a deal, and what each says about it: the only place that names
// them. The solver scans them by topic in block ranges from where its last scan stopped (as the
// mediator scans disputes); the caller applies what was found together with the new cursor.
// Two contracts speak: LilyDeals names each deal by id; LilyTrustDeals, where the network has it,
// moves routed trust deals in batches and names them by their leaf (DealsOpened) or by their
// provider and nonce (DealsSettled, DealsTimedOut), which the book maps to its deals
// (`TrustDealIndex`). Events of both are applied in the chain's order, oldest first.
import { encodeEventTopics, formatLog, parseEventLogs, toHex, type Address, type Hex, type RpcLog } from "viem";
import { lilyDealsAbi, lilyTrustDealsAbi, unpackNonces, type LilyClient } from "@lily/chain";

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

/** LilyTrustDeals' batch events. Settling is a routed trust deal's commit: the provider declares delivery and is paid at once. */
export const trustDealFacts = {
  DealsOpened: "opened",
  DealsSettled: "committed",
  DealsTimedOut: "timed-out",
} as const satisfies Record<string, ChainFact>;

type FactEvent = keyof typeof dealFacts;
type TrustFactEvent = keyof typeof trustDealFacts;
const eventNames = Object.keys(dealFacts) as FactEvent[];
const selectors = eventNames.map((eventName) => encodeEventTopics({ abi: lilyDealsAbi, eventName })[0]);
const trustEventNames = Object.keys(trustDealFacts) as TrustFactEvent[];
const trustSelectors = trustEventNames.map((eventName) => encodeEventTopics({ abi: lilyTrustDealsAbi, eventName })[0]);

export interface ChainSighting {
  dealId: Hex;
  fact: ChainFact;
  event: FactEvent | TrustFactEvent;
  txHash: Hex;
  blockNumber: number;
}

/** Which deals a LilyTrustDeals event names: by leaf (an opening), or by provider and nonces (an ending). */
export type TrustDealsNamed = { leaves: readonly Hex[] } | { provider: Address; nonces: readonly bigint[] };

/** One event as scanned: a LilyDeals one names its deal, a LilyTrustDeals one its batch's. */
export type ScannedEvent = Omit<ChainSighting, "dealId"> & ({ dealId: Hex } | { trust: TrustDealsNamed });

/** The followed routed trust deals by what LilyTrustDeals' events name them by (the book keeps both, indexed). */
export interface TrustDealIndex {
  /** The deals whose leaf (lowercase) this is. */
  trustDealsByLeaf(leaf: Hex): Hex[];
  /** The deals of this provider with this trust nonce, and whether the chain was seen opening each. */
  trustDealsByNonce(provider: Address, nonce: bigint): { id: Hex; seenOpened: boolean }[];
}

/** The deal facts announced in blocks [fromBlock, toBlock] by LilyDeals and (where named) LilyTrustDeals, oldest first. */
export async function scanDealEvents(client: LilyClient, fromBlock: number, toBlock: number): Promise<ScannedEvent[]> {
  if (fromBlock > toBlock) return [];
  const range = { fromBlock: toHex(fromBlock), toBlock: toHex(toBlock) };
  const getLogs = async (address: Address, topics: Hex[]) =>
    ((await client.publicClient.request({ method: "eth_getLogs", params: [{ address, ...range, topics: [topics] }] })) as RpcLog[]).map((l) => formatLog(l));
  const trustDeals = client.addresses.trustDeals;
  const [raw, trustRaw] = await Promise.all([
    getLogs(client.addresses.deals, selectors as Hex[]),
    trustDeals ? getLogs(trustDeals, trustSelectors as Hex[]) : [],
  ]);
  const found: (ScannedEvent & { logIndex: number })[] = parseEventLogs({ abi: lilyDealsAbi, eventName: eventNames, logs: raw }).map((log) => ({
    dealId: (log.args as { dealId: Hex }).dealId.toLowerCase() as Hex,
    fact: dealFacts[log.eventName as FactEvent],
    event: log.eventName as FactEvent,
    txHash: log.transactionHash,
    blockNumber: Number(log.blockNumber),
    logIndex: log.logIndex,
  }));
  for (const log of parseEventLogs({ abi: lilyTrustDealsAbi, eventName: trustEventNames, logs: trustRaw })) {
    const args = log.args as { leaves?: readonly Hex[]; provider?: Address; nonces?: Hex };
    const trust: TrustDealsNamed =
      log.eventName === "DealsOpened" ? { leaves: args.leaves! } : { provider: args.provider!, nonces: unpackNonces(args.nonces!) };
    const event = log.eventName as TrustFactEvent;
    found.push({ trust, fact: trustDealFacts[event], event, txHash: log.transactionHash, blockNumber: Number(log.blockNumber), logIndex: log.logIndex });
  }
  // Log indexes count across the block, whichever contract emitted: one order for both.
  return found.sort((a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex).map(({ logIndex: _, ...e }) => e);
}

/** Each event as a sighting of each followed deal it names, in order (a trust batch's deals in its order); deals not followed are left out. */
/**
 * A settlement or timeout names (provider, nonce), and a provider picks its nonces: it could sign
 * two deals under one, of which only one can open. Such an event is the sighting only of a deal seen
 * opened, before or earlier in these events, never of its unopened twin.
 */
export function sightingsOf(events: readonly ScannedEvent[], index: TrustDealIndex): ChainSighting[] {
  const out: ChainSighting[] = [];
  const openedHere = new Set<Hex>();
  for (const e of events) {
    if ("dealId" in e) {
      out.push(e);
      continue;
    }
    const { trust, ...fact } = e;
    const ids =
      "leaves" in trust
        ? trust.leaves.flatMap((leaf) => index.trustDealsByLeaf(leaf.toLowerCase() as Hex))
        : trust.nonces.flatMap((nonce) =>
            index
              .trustDealsByNonce(trust.provider, nonce)
              .filter((d) => d.seenOpened || openedHere.has(d.id))
              .map((d) => d.id),
          );
    if ("leaves" in trust) for (const id of ids) openedHere.add(id);
    for (const dealId of ids) out.push({ dealId, ...fact });
  }
  return out;
}
