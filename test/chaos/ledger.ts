// What the chain says after a chaos run: every deal's history, one function per contract's event
// log (LilyDeals names each deal by id; LilyTrustDeals opens deals in batches by leaf and ends them
// by provider and nonce), and whether the token is conserved (the wallets of every holder sum to
// the total supply, and each escrow contract holds exactly its accounts' free balances plus what
// is locked).
import { parseEventLogs, type Abi, type Address, type Hex } from "viem";
import { escrowBalance, lilyDealsAbi, lilyTokenAbi, lilyTrustDealsAbi, totalLocked, unpackNonces, type LilyClient } from "@lily/chain";

export interface DealHistory {
  dealId: Hex;
  events: { name: string; args: Record<string, unknown> }[];
}

type AnyLog = { eventName: string; args: Record<string, unknown> };

async function logsOf(chain: LilyClient, address: Address, fromBlock: bigint, abi: Abi): Promise<AnyLog[]> {
  const latest = await chain.publicClient.getBlockNumber();
  const out: AnyLog[] = [];
  // In slices, so a long run's log never meets a node's response limit.
  for (let from = fromBlock; from <= latest; from += 5000n) {
    const to = from + 4999n < latest ? from + 4999n : latest;
    const raw = await chain.publicClient.getLogs({ address, fromBlock: from, toBlock: to });
    out.push(...(parseEventLogs({ abi, logs: raw }) as unknown as AnyLog[]));
  }
  return out;
}

const lower = (a: unknown) => String(a).toLowerCase() as Address;

/** LilyDeals' log: every deal event grouped by deal id, in log order, and every account an event named (each may hold a free balance). */
export async function dealHistories(chain: LilyClient): Promise<{ deals: Map<Hex, DealHistory>; accounts: Set<Address> }> {
  const logs = await logsOf(chain, chain.addresses.deals, BigInt(chain.addresses.deployBlock), lilyDealsAbi);
  const deals = new Map<Hex, DealHistory>();
  const accounts = new Set<Address>();
  for (const log of logs) {
    // Deposits, and every party a deal can credit.
    for (const k of ["account", "jobCreator", "provider", "moduleCreator", "mediator", "payer", "challenger"])
      if (typeof log.args[k] === "string") accounts.add(lower(log.args[k]));
    const dealId = (log.args as { dealId?: Hex }).dealId;
    if (!dealId) continue;
    const key = dealId.toLowerCase() as Hex;
    const h = deals.get(key) ?? { dealId: key, events: [] };
    h.events.push({ name: log.eventName, args: log.args });
    deals.set(key, h);
  }
  return { deals, accounts };
}

/** The events that end a deal on LilyDeals: exactly one of them, once, for every deal that opened. */
export const ENDINGS = ["DealSettled", "DealTimedOut", "DealSlashed", "MediationTimedOut"] as const;

/** How LilyTrustDeals names one deal in its endings. */
export const trustKey = (provider: Address, nonce: bigint) => `${provider.toLowerCase()}:${nonce}`;

export interface TrustHistory {
  /** Each opened leaf (lowercase) and the batches that opened it: one, for every deal. */
  openings: Map<Hex, bigint[]>;
  /** Each (provider, nonce) (`trustKey`) a DealsSettled or DealsTimedOut moved, and in which batch. */
  endings: Map<string, { name: "DealsSettled" | "DealsTimedOut"; batchNo: bigint }[]>;
  /**
   * The accounts its events name: depositors and settling providers. A deal's job creator and
   * module creator are only inside its leaf: the caller adds those of the deals it knows.
   */
  accounts: Set<Address>;
}

/** LilyTrustDeals' log: which leaves opened (and in which batch), which (provider, nonce) ended and how. */
export async function trustHistory(chain: LilyClient, trustDeals: Address): Promise<TrustHistory> {
  const logs = await logsOf(chain, trustDeals, BigInt(chain.addresses.deployBlock), lilyTrustDealsAbi);
  const h: TrustHistory = { openings: new Map(), endings: new Map(), accounts: new Set() };
  for (const log of logs) {
    const a = log.args as { account?: Address; batchNo?: bigint; leaves?: Hex[]; provider?: Address; nonces?: Hex };
    if (a.account) h.accounts.add(lower(a.account));
    if (log.eventName === "DealsOpened") {
      // A zero leaf is an item the batch skipped.
      for (const leaf of a.leaves!.filter((l) => BigInt(l) !== 0n).map((l) => l.toLowerCase() as Hex))
        h.openings.set(leaf, [...(h.openings.get(leaf) ?? []), a.batchNo!]);
    } else if (log.eventName === "DealsSettled" || log.eventName === "DealsTimedOut") {
      if (log.eventName === "DealsSettled") h.accounts.add(lower(a.provider));
      for (const nonce of unpackNonces(a.nonces!)) {
        const k = trustKey(a.provider!, nonce);
        h.endings.set(k, [...(h.endings.get(k) ?? []), { name: log.eventName, batchNo: a.batchNo! }]);
      }
    }
  }
  return h;
}

/** One escrow contract's books: its token balance against its accounts' free balances plus what it has locked. */
export interface EscrowBooks {
  escrow: Address;
  held: bigint;
  free: bigint;
  locked: bigint;
  accounts: number;
}

export interface Conservation {
  supply: bigint;
  wallets: bigint;
  holders: number;
  escrows: EscrowBooks[];
}

/**
 * Sum every wallet that ever received LILY (from the token's Transfer log), and, for each escrow
 * contract, the free balances of every account that may hold one there (the caller names them).
 */
export async function conservation(chain: LilyClient, escrows: { escrow: Address; accounts: Iterable<Address> }[]): Promise<Conservation> {
  const transfers = await logsOf(chain, chain.addresses.token, 0n, lilyTokenAbi);
  const holders = new Set<Address>();
  for (const t of transfers) if (t.eventName === "Transfer") holders.add((t.args as { to: Address }).to);
  const read = (fn: "balanceOf" | "totalSupply", args: readonly [Address] | readonly []) =>
    chain.publicClient.readContract({ address: chain.addresses.token, abi: lilyTokenAbi, functionName: fn, args: args as never }) as Promise<bigint>;
  let wallets = 0n;
  for (const h of holders) wallets += await read("balanceOf", [h]);
  const books: EscrowBooks[] = [];
  for (const { escrow, accounts } of escrows) {
    const unique = new Set([...accounts].map(lower));
    let free = 0n;
    for (const account of unique) free += await escrowBalance(chain, { account, escrow });
    books.push({ escrow, held: await read("balanceOf", [escrow]), free, locked: await totalLocked(chain, { escrow }), accounts: unique.size });
  }
  return { supply: await read("totalSupply", []), wallets, holders: holders.size, escrows: books };
}
