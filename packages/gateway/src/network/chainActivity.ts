// The network's activity as the chain recorded it: every deal (opened, committed, challenged, and
// how it ended), every lease (opened, closed, reclaimed, slashed), every trust deal where the
// network has LilyTrustDeals (trustActivity.ts), what each provider earned and lost, and the gas
// each Lily transaction used. Read incrementally: the first read starts at the
// deployment block, each later one only from the block after the last one read, so a page load
// never rescans the chain. Lives in memory; a restarted gateway reads the chain once more.
import { parseEventLogs, type Address, type Hash, type Hex, type Log } from "viem";
import { lilyDealsAbi, lilyLeasesAbi, type DealStateName, type LilyClient } from "@lily/chain";
import { createTrustActivity, type TrustOpenings } from "./trustActivity.ts";

/** Most blocks asked for in one eth_getLogs (public RPC endpoints refuse wide ranges). */
export const LOG_RANGE_BLOCKS = 2_000n;
/** How often the chain is read again at most: a burst of page loads shares one read. */
export const ACTIVITY_REFRESH_MS = 3_000;

export interface DealActivity {
  id: Hex;
  jobCreator: Address;
  provider: Address;
  price: bigint;
  collateral: bigint;
  state: Exclude<DealStateName, "none">;
  /** Unix seconds of the block that opened it. */
  openedAt: number;
  openTx: Hash;
  /** The transaction that ended it (settled, slashed or timed out). */
  endTx?: Hash;
  endedAt?: number;
  /** What the provider was paid (the price less the royalty), once settled. */
  paid?: bigint;
  /** Every transaction that emitted one of its events, oldest first. */
  txs: Hash[];
  /** A trust deal's place on LilyTrustDeals (its id is then its TrustDeal's EIP-712 id), and its leaf as DealsOpened named it. */
  trust?: { batchNo: bigint; nonce: bigint; royaltyBps: number; leaf: Hash };
}

export interface LeaseActivity {
  id: Hex;
  payer: Address;
  provider: Address;
  budget: bigint;
  collateral: bigint;
  openedAt: number;
  openTx: Hash;
  expiresAt: number;
  state: "open" | "closed" | "reclaimed";
  /** Answers the closing voucher covered, and what the provider was paid for them. */
  requests?: number;
  paid?: bigint;
  slashed: boolean;
}

/** Money a provider received for work: a settled deal or a closed lease. */
export interface Earning {
  provider: Address;
  time: number;
  amount: bigint;
  kind: "deal" | "lease";
  id: Hex;
  tx: Hash;
}

/** Collateral a provider lost. */
export interface Slash {
  provider: Address;
  time: number;
  amount: bigint;
  /** slashed: proven wrong by a mediator or a replica tally; timedOut: missed its deadline; lease: a wrong answer under a lease. */
  reason: "slashed" | "timedOut" | "lease";
  id: Hex;
  tx: Hash;
}

export interface TxGas {
  gasUsed: bigint;
  /** gasUsed × effective gas price, in wei. */
  feeWei: bigint;
  /** How many trust deals a LilyTrustDeals batch transaction opened, settled or timed out: its gas is theirs together. */
  deals?: number;
}

export interface ActivitySnapshot {
  /** The last block read. */
  block: bigint;
  deals: ReadonlyMap<Hex, DealActivity>;
  leases: ReadonlyMap<Hex, LeaseActivity>;
  earnings: readonly Earning[];
  slashes: readonly Slash[];
  gas: ReadonlyMap<Hash, TxGas>;
  /** Each provider's last block time with an event of its own (deal or lease). */
  lastSeen: ReadonlyMap<Address, number>;
  /** Where the network has LilyTrustDeals: trust deals opened whose terms could not be read (opened through another contract). */
  unreadTrustDeals?: number;
}

export interface ChainActivity {
  /** The activity up to a block read at most ACTIVITY_REFRESH_MS ago (reading on from where the last read stopped). */
  snapshot(): Promise<ActivitySnapshot>;
}

type RawLog = Log<bigint, number, false>;

export function createChainActivity(chain: LilyClient, opts: { refreshMs?: number } = {}): ChainActivity {
  const refreshMs = opts.refreshMs ?? ACTIVITY_REFRESH_MS;
  const { publicClient, addresses } = chain;
  const contracts = [addresses.deals, ...(addresses.leases ? [addresses.leases] : []), ...(addresses.trustDeals ? [addresses.trustDeals] : [])];
  const deals = new Map<Hex, DealActivity>();
  const leases = new Map<Hex, LeaseActivity>();
  const earnings: Earning[] = [];
  const slashes: Slash[] = [];
  const gas = new Map<Hash, TxGas>();
  const lastSeen = new Map<Address, number>();
  /** The next block to read. */
  let next = BigInt(addresses.deployBlock);
  let readAt = 0;
  let reading: Promise<void> | undefined;

  const seen = (provider: Address, time: number) => {
    if ((lastSeen.get(provider) ?? 0) < time) lastSeen.set(provider, time);
  };
  const trust = addresses.trustDeals ? createTrustActivity(chain, { deals, earnings, slashes, seen }) : undefined;
  const isTrust = (log: RawLog) => log.address.toLowerCase() === addresses.trustDeals?.toLowerCase();
  const touch = (d: { txs: Hash[] }, tx: Hash) => {
    if (!d.txs.includes(tx)) d.txs.push(tx);
  };

  function applyDealLog(log: ReturnType<typeof parseEventLogs<typeof lilyDealsAbi>>[number], time: number): void {
    const tx = log.transactionHash;
    if (log.eventName === "DealOpened") {
      const a = log.args;
      const id = a.dealId as Hex;
      deals.set(id, {
        id,
        jobCreator: a.jobCreator,
        provider: a.provider,
        price: a.price,
        collateral: a.collateral,
        state: "open",
        openedAt: time,
        openTx: tx,
        txs: [tx],
      });
      seen(a.provider, time);
      return;
    }
    if (!("dealId" in log.args)) return; // ReplicasTallied: each replica's own outcome follows
    const deal = deals.get(log.args.dealId as Hex);
    if (!deal) return; // an event of a deal opened before the deployment block cannot exist
    touch(deal, tx);
    seen(deal.provider, time);
    const end = (state: DealActivity["state"]) => {
      deal.state = state;
      deal.endTx = tx;
      deal.endedAt = time;
    };
    switch (log.eventName) {
      case "ResultCommitted":
        deal.state = "committed";
        break;
      case "DealChallenged":
      case "MediationRequested":
        deal.state = "challenged";
        break;
      case "DealSettled":
        end("settled");
        deal.paid = log.args.paid;
        earnings.push({ provider: deal.provider, time, amount: log.args.paid, kind: "deal", id: deal.id, tx });
        break;
      case "DealSlashed":
        end("slashed");
        slashes.push({ provider: deal.provider, time, amount: log.args.slashed, reason: "slashed", id: deal.id, tx });
        break;
      case "DealTimedOut":
        end("timedOut");
        slashes.push({ provider: deal.provider, time, amount: log.args.slashed, reason: "timedOut", id: deal.id, tx });
        break;
      case "MediationTimedOut":
        end("timedOut");
        break;
    }
  }

  function applyLeaseLog(log: ReturnType<typeof parseEventLogs<typeof lilyLeasesAbi>>[number], time: number): void {
    const tx = log.transactionHash;
    if (log.eventName === "LeaseOpened") {
      const a = log.args;
      leases.set(a.leaseId as Hex, {
        id: a.leaseId as Hex,
        payer: a.payer,
        provider: a.provider,
        budget: a.budget,
        collateral: a.collateral,
        openedAt: time,
        openTx: tx,
        expiresAt: Number(a.expiresAt),
        state: "open",
        slashed: false,
      });
      seen(a.provider, time);
      return;
    }
    if (!("leaseId" in log.args)) return;
    const lease = leases.get(log.args.leaseId as Hex);
    if (!lease) return;
    seen(lease.provider, time);
    switch (log.eventName) {
      case "LeaseClosed":
        lease.state = "closed";
        lease.requests = Number(log.args.requests);
        lease.paid = log.args.paid;
        earnings.push({ provider: lease.provider, time, amount: log.args.paid, kind: "lease", id: lease.id, tx });
        break;
      case "LeaseReclaimed":
        lease.state = "reclaimed";
        break;
      case "LeaseSlashed":
        lease.slashed = true;
        slashes.push({ provider: lease.provider, time, amount: log.args.mediatorFee + log.args.toPayer, reason: "lease", id: lease.id, tx });
        break;
    }
  }

  async function readRange(from: bigint, to: bigint): Promise<void> {
    const logs = (await publicClient.getLogs({ address: contracts, fromBlock: from, toBlock: to })) as RawLog[];
    const blocks = [...new Set(logs.map((l) => l.blockNumber))];
    const txs = [...new Set(logs.map((l) => l.transactionHash))];
    // Timestamps and receipts, a few at a time, before anything is applied: a failed read
    // applies nothing and the same range is read again next time.
    const times = new Map<bigint, number>();
    for (const batch of chunks(blocks, 20)) {
      const got = await Promise.all(batch.map((n) => publicClient.getBlock({ blockNumber: n })));
      for (const b of got) times.set(b.number, Number(b.timestamp));
    }
    const receipts = new Map<Hash, TxGas>();
    for (const batch of chunks(txs, 20)) {
      const got = await Promise.all(batch.map((hash) => publicClient.getTransactionReceipt({ hash })));
      for (const r of got) receipts.set(r.transactionHash, { gasUsed: r.gasUsed, feeWei: r.gasUsed * r.effectiveGasPrice });
    }
    const openings: TrustOpenings = trust ? await trust.readOpenings(logs.filter(isTrust)) : new Map();
    const sorted = logs.sort((a, b) => (a.blockNumber === b.blockNumber ? a.logIndex - b.logIndex : a.blockNumber < b.blockNumber ? -1 : 1));
    for (const log of sorted) {
      const time = times.get(log.blockNumber)!;
      // RoyaltyPaid has the same signature in both contracts: each log is parsed by its own contract's ABI.
      if (log.address.toLowerCase() === addresses.deals.toLowerCase()) {
        for (const parsed of parseEventLogs({ abi: lilyDealsAbi, logs: [log] })) applyDealLog(parsed, time);
      } else if (trust && isTrust(log)) {
        trust.apply(log, time, openings);
      } else {
        for (const parsed of parseEventLogs({ abi: lilyLeasesAbi, logs: [log] })) applyLeaseLog(parsed, time);
      }
    }
    for (const [hash, g] of receipts) {
      const n = trust?.dealsIn(hash);
      gas.set(hash, n === undefined ? g : { ...g, deals: n });
    }
  }

  async function readOn(): Promise<void> {
    const latest = await publicClient.getBlockNumber({ cacheTime: 0 });
    while (next <= latest) {
      const to = next + LOG_RANGE_BLOCKS - 1n < latest ? next + LOG_RANGE_BLOCKS - 1n : latest;
      await readRange(next, to);
      next = to + 1n;
    }
    readAt = Date.now();
  }

  return {
    async snapshot() {
      if (Date.now() - readAt >= refreshMs) {
        reading ??= readOn().finally(() => {
          reading = undefined;
        });
        await reading;
      }
      return { block: next - 1n, deals, leases, earnings, slashes, gas, lastSeen, ...(trust && { unreadTrustDeals: trust.unread() }) };
    },
  };
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
