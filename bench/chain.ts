// Transactions and gas, read back from the chain: per job from its deal's events (each event
// carries its transaction and that transaction's gasUsed), the one-off set-up from the blocks
// before the first job, and a cross-check that no other transaction was sent while jobs ran.
import { decodeFunctionData, isAddressEqual, type Hash, type Hex } from "viem";
import { getDealEvents, lilyDealsAbi, lilyTokenAbi, type LilyClient } from "@lily/chain";

export interface DealCost {
  dealId: Hex;
  txs: Hash[];
  gas: bigint;
  /** Lowest and highest block of the deal's transactions. */
  blocks: [bigint, bigint];
}

/** Every transaction of one deal, all parties together, and the gas they used. */
export async function dealCost(client: LilyClient, dealId: Hex): Promise<DealCost> {
  const events = await getDealEvents(client, { dealId });
  if (events.length === 0) throw new Error(`deal ${dealId} has no events on chain`);
  const gasByTx = new Map<Hash, bigint>();
  for (const e of events) gasByTx.set(e.txHash, e.gasUsed);
  const blocks = events.map((e) => e.blockNumber);
  return {
    dealId,
    txs: [...gasByTx.keys()],
    gas: [...gasByTx.values()].reduce((a, b) => a + b, 0n),
    blocks: [blocks.reduce((a, b) => (b < a ? b : a)), blocks.reduce((a, b) => (b > a ? b : a))],
  };
}

export interface ChainTx {
  hash: Hash;
  kind: string;
  gas: bigint;
}

/** Every transaction in blocks [from, to], with what it was and the gas it used. */
export async function transactionsIn(client: LilyClient, from: bigint, to: bigint): Promise<ChainTx[]> {
  const { publicClient, addresses } = client;
  const txs: ChainTx[] = [];
  for (let n = from; n <= to; n++) {
    const block = await publicClient.getBlock({ blockNumber: n, includeTransactions: true });
    for (const tx of block.transactions) {
      const receipt = await publicClient.getTransactionReceipt({ hash: tx.hash });
      txs.push({ hash: tx.hash, kind: kindOf(tx.to, tx.input, tx.value, addresses), gas: receipt.gasUsed });
    }
  }
  return txs;
}

function kindOf(to: Hex | null, input: Hex, value: bigint, addresses: { token: Hex; deals: Hex }): string {
  if (!to) return "contract deployment";
  if (isAddressEqual(to, addresses.deals)) {
    try {
      return decodeFunctionData({ abi: lilyDealsAbi, data: input }).functionName;
    } catch {
      return "LilyDeals call";
    }
  }
  if (isAddressEqual(to, addresses.token)) {
    try {
      return decodeFunctionData({ abi: lilyTokenAbi, data: input }).functionName;
    } catch {
      return "LilyToken call";
    }
  }
  return value > 0n && input === "0x" ? "ETH transfer" : "other";
}
