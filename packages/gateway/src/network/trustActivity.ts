// The network's trust deals as LilyTrustDeals recorded them, for chainActivity's incremental read.
// The contract keeps nothing per deal and its events name no deal: `DealsOpened` gives a batch's
// leaves, `DealsSettled` and `DealsTimedOut` a batch, a provider and nonces. So each deal's terms
// are read once from its opening transaction's calldata (openDeals), checked against the event's
// leaves, and its ending is found by (batch, provider, nonce). A batch transaction carries many
// deals: each transaction's gas is kept once, with how many deals it moved.
import { decodeFunctionData, getAddress, parseEventLogs, zeroHash, type Address, type Hash, type Log } from "viem";
import { lilyTrustDealsAbi, trustDealId, trustLeaf, trustTermsOf, unpackNonces, type LilyClient } from "@lily/chain";
import type { TrustDealMessage } from "@lily/protocol";
import type { DealActivity, Earning, Slash } from "./chainActivity.ts";

/** The royalty's denominator (LilyTrustDeals' MAX_ROYALTY_BPS). */
const BPS = 10_000n;
/** Most transactions asked for at once. */
const TX_READS_AT_ONCE = 20;

type RawLog = Log<bigint, number, false>;

/** What the trust reader writes into: the activity's shared collections. */
export interface TrustActivitySink {
  deals: Map<Hash, DealActivity>;
  earnings: Earning[];
  slashes: Slash[];
  seen(provider: Address, time: number): void;
}

/** Each opening transaction's deals as its calldata names them; undefined when the calldata is not a direct openDeals call. */
export type TrustOpenings = ReadonlyMap<Hash, readonly TrustDealMessage[] | undefined>;

export interface TrustActivity {
  /** Read the calldata of the transactions among `logs` that opened a batch (once each: a range is read once). */
  readOpenings(logs: readonly RawLog[]): Promise<TrustOpenings>;
  /** Apply one LilyTrustDeals log, in chain order. */
  apply(log: RawLog, time: number, openings: TrustOpenings): void;
  /** How many deals a transaction opened, settled or timed out; undefined for one that moved none. */
  dealsIn(tx: Hash): number | undefined;
  /** Deals opened whose terms could not be read (opened through another contract, so the calldata is not openDeals'). */
  unread(): number;
}

export function createTrustActivity(chain: LilyClient, sink: TrustActivitySink): TrustActivity {
  const { publicClient, addresses } = chain;
  /** Open deals by batch, provider and nonce: what DealsSettled and DealsTimedOut name. */
  const open = new Map<string, DealActivity>();
  const moved = new Map<Hash, number>();
  let unread = 0;
  const key = (batchNo: bigint, provider: Address, nonce: bigint) => `${batchNo}:${provider.toLowerCase()}:${nonce}`;
  const count = (tx: Hash, n: number) => moved.set(tx, (moved.get(tx) ?? 0) + n);

  function parse(log: RawLog) {
    return parseEventLogs({ abi: lilyTrustDealsAbi, logs: [log] })[0];
  }

  function decode(input: Hash): readonly TrustDealMessage[] | undefined {
    try {
      const call = decodeFunctionData({ abi: lilyTrustDealsAbi, data: input });
      return call.functionName === "openDeals" ? call.args[0] : undefined;
    } catch {
      return undefined; // a contract (a wallet, a multicall) called openDeals: its calldata is its own
    }
  }

  function opened(batchNo: bigint, leaves: readonly Hash[], deals: readonly TrustDealMessage[] | undefined, time: number, tx: Hash): void {
    leaves.forEach((leaf, i) => {
      if (leaf === zeroHash) return; // skipped: nothing opened
      const deal = deals?.length === leaves.length ? deals[i] : undefined;
      // REJECT: the calldata's terms must hash to the leaf the contract emitted for that item.
      if (!deal || trustLeaf(deal.provider, trustTermsOf(deal)) !== leaf) {
        unread++;
        return;
      }
      const provider = getAddress(deal.provider);
      const activity: DealActivity = {
        id: trustDealId(addresses, deal),
        jobCreator: getAddress(deal.jobCreator),
        provider,
        price: deal.price,
        collateral: deal.collateral,
        state: "open",
        openedAt: time,
        openTx: tx,
        txs: [tx],
        trust: { batchNo, nonce: deal.nonce, royaltyBps: deal.royaltyBps, leaf },
      };
      sink.deals.set(activity.id, activity);
      open.set(key(batchNo, provider, deal.nonce), activity);
      sink.seen(provider, time);
    });
  }

  function ended(batchNo: bigint, provider: Address, nonces: bigint[], how: "settled" | "timedOut", time: number, tx: Hash): void {
    count(tx, nonces.length);
    sink.seen(provider, time);
    for (const nonce of nonces) {
      const deal = open.get(key(batchNo, provider, nonce));
      if (!deal) continue; // its terms were unread
      open.delete(key(batchNo, provider, nonce));
      deal.state = how;
      deal.endTx = tx;
      deal.endedAt = time;
      if (!deal.txs.includes(tx)) deal.txs.push(tx);
      if (how === "settled") {
        // The contract's Math.mulDiv rounds down, as bigint division does.
        const paid = deal.price - (deal.price * BigInt(deal.trust!.royaltyBps)) / BPS;
        deal.paid = paid;
        sink.earnings.push({ provider, time, amount: paid, kind: "deal", id: deal.id, tx });
      } else {
        // The job creator gets the provider's whole collateral.
        sink.slashes.push({ provider, time, amount: deal.collateral, reason: "timedOut", id: deal.id, tx });
      }
    }
  }

  return {
    async readOpenings(logs) {
      const txs = [...new Set(logs.filter((l) => parse(l)?.eventName === "DealsOpened").map((l) => l.transactionHash))];
      const out = new Map<Hash, readonly TrustDealMessage[] | undefined>();
      for (let i = 0; i < txs.length; i += TX_READS_AT_ONCE) {
        const got = await Promise.all(txs.slice(i, i + TX_READS_AT_ONCE).map((hash) => publicClient.getTransaction({ hash })));
        for (const t of got) out.set(t.hash, decode(t.input));
      }
      return out;
    },
    apply(log, time, openings) {
      const parsed = parse(log);
      const tx = log.transactionHash;
      switch (parsed?.eventName) {
        case "DealsOpened":
          count(tx, parsed.args.leaves.filter((l) => l !== zeroHash).length);
          opened(parsed.args.batchNo, parsed.args.leaves, openings.get(tx), time, tx);
          break;
        case "DealsSettled":
          ended(parsed.args.batchNo, parsed.args.provider, unpackNonces(parsed.args.nonces), "settled", time, tx);
          break;
        case "DealsTimedOut":
          ended(parsed.args.batchNo, parsed.args.provider, unpackNonces(parsed.args.nonces), "timedOut", time, tx);
          break;
      }
    },
    dealsIn: (tx) => moved.get(tx),
    unread: () => unread,
  };
}
