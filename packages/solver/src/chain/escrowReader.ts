// Free escrow balances, read from the LilyDeals contract for the parties a matching pass needs,
// all at once, and kept for as long as the chain stays at the same block: a balance cannot
// change without a new block, so the many passes a busy second brings cost one read per party.
import type { Address } from "viem";
import { escrowBalance, type LilyClient } from "@lily/chain";

export class EscrowReader {
  private block = -1n;
  private balances = new Map<string, Promise<bigint>>();

  private readonly client: LilyClient;

  constructor(client: LilyClient) {
    this.client = client;
  }

  /** Each party's free escrow, in LILY wei, at the chain's latest block. */
  async read(parties: readonly Address[]): Promise<Map<Address, bigint>> {
    const block = await this.client.publicClient.getBlockNumber({ cacheTime: 0 });
    if (block !== this.block) {
      this.block = block;
      this.balances = new Map();
    }
    const cache = this.balances;
    const values = await Promise.all(
      parties.map((account) => {
        const key = account.toLowerCase();
        let balance = cache.get(key);
        if (!balance) {
          balance = escrowBalance(this.client, { account });
          cache.set(key, balance);
          balance.catch(() => cache.delete(key)); // a failed read is retried next time, not cached
        }
        return balance;
      }),
    );
    return new Map(parties.map((p, i) => [p, values[i]!]));
  }
}
