// What the chain says after a chaos run: every deal's history from the LilyDeals event log, and
// whether the token is conserved (the wallets of every holder sum to the total supply, and the
// escrow contract holds exactly its accounts' free balances plus what is locked).
import { parseEventLogs, type Address, type Hex } from "viem";
import { escrowBalance, lilyDealsAbi, lilyTokenAbi, totalLocked, type LilyClient } from "@lily/chain";

export interface DealHistory {
  dealId: Hex;
  events: { name: string; args: Record<string, unknown> }[];
}

type AnyLog = { eventName: string; args: Record<string, unknown> };

async function logsOf(chain: LilyClient, address: Address, fromBlock: bigint, abi: typeof lilyDealsAbi | typeof lilyTokenAbi): Promise<AnyLog[]> {
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

/** Every deal event, grouped by deal id, in log order. */
export async function dealHistories(chain: LilyClient): Promise<Map<Hex, DealHistory>> {
  const logs = await logsOf(chain, chain.addresses.deals, BigInt(chain.addresses.deployBlock), lilyDealsAbi);
  const byDeal = new Map<Hex, DealHistory>();
  for (const log of logs) {
    const dealId = (log.args as { dealId?: Hex }).dealId;
    if (!dealId) continue;
    const key = dealId.toLowerCase() as Hex;
    const h = byDeal.get(key) ?? { dealId: key, events: [] };
    h.events.push({ name: log.eventName, args: log.args });
    byDeal.set(key, h);
  }
  return byDeal;
}

/** The events that end a deal: exactly one of them, once, for every deal that opened. */
export const ENDINGS = ["DealSettled", "DealTimedOut", "DealSlashed", "MediationTimedOut"] as const;

export interface Conservation {
  supply: bigint;
  wallets: bigint;
  escrowHeld: bigint;
  escrowFree: bigint;
  locked: bigint;
  holders: number;
  escrowAccounts: number;
}

/**
 * Sum every wallet that ever received LILY (from the token's Transfer log) and every account that
 * ever had a free balance in LilyDeals (deposits, and every party a deal can credit).
 */
export async function conservation(chain: LilyClient, tokenFromBlock: bigint): Promise<Conservation> {
  const transfers = await logsOf(chain, chain.addresses.token, tokenFromBlock, lilyTokenAbi);
  const holders = new Set<Address>();
  for (const t of transfers) if (t.eventName === "Transfer") holders.add((t.args as { to: Address }).to);
  const dealLogs = await logsOf(chain, chain.addresses.deals, BigInt(chain.addresses.deployBlock), lilyDealsAbi);
  const accounts = new Set<Address>();
  for (const l of dealLogs) {
    const a = l.args as Record<string, unknown>;
    for (const k of ["account", "jobCreator", "provider", "moduleCreator", "mediator", "payer", "challenger"]) {
      if (typeof a[k] === "string") accounts.add((a[k] as Address).toLowerCase() as Address);
    }
  }
  const read = (fn: "balanceOf" | "totalSupply", args: readonly [Address] | readonly []) =>
    chain.publicClient.readContract({ address: chain.addresses.token, abi: lilyTokenAbi, functionName: fn, args: args as never }) as Promise<bigint>;
  const supply = await read("totalSupply", []);
  let wallets = 0n;
  for (const h of holders) wallets += await read("balanceOf", [h]);
  let escrowFree = 0n;
  for (const a of accounts) escrowFree += await escrowBalance(chain, { account: a });
  return {
    supply,
    wallets,
    escrowHeld: await read("balanceOf", [chain.addresses.deals]),
    escrowFree,
    locked: await totalLocked(chain),
    holders: holders.size,
    escrowAccounts: accounts.size,
  };
}
