// Free escrow balances, read for the parties a matching pass needs, each from the escrow its key
// names (matcher/backing.ts: LilyDeals for an address, LilyTrustDeals for its trust key),
// all at once, and kept for as long as the chain stays at the same block: a balance cannot
// change without a new block, so the many passes a busy second brings cost one read per party.
// `sync` checks the block once and `peek` gives a balance already read at it, synchronously, so a
// matching pass plans with what it knows and reads only the parties it has not met this block.
import { escrowBalance, trustDealsAddress, withLilyErrors, type LilyClient } from "@lily/chain";
import { keyParty, type BackingKey } from "../matcher/backing.ts";

/** Balance reads in flight at once. */
const READ_CONCURRENCY = 64;

export class EscrowReader {
  private block = -1n;
  private balances = new Map<string, Promise<bigint>>();
  /** The balances of `balances` that have arrived, by lowercase address. */
  private values = new Map<string, bigint>();

  private readonly client: LilyClient;

  constructor(client: LilyClient) {
    this.client = client;
  }

  /** Each party's free escrow in the escrow its key names (`backingKey`), in LILY wei, at the chain's latest block. */
  async read(parties: readonly BackingKey[]): Promise<Map<BackingKey, bigint>> {
    await this.sync();
    const read: bigint[] = [];
    // A few calls in flight at a time: a pass may need thousands of balances, and as many pending
    // requests (and their promises) at once held memory and stalled the node for all of them.
    for (let i = 0; i < parties.length; i += READ_CONCURRENCY) read.push(...(await this.readSome(parties.slice(i, i + READ_CONCURRENCY))));
    return new Map(parties.map((p, i) => [p, read[i]!]));
  }

  private readSome(parties: readonly BackingKey[]): Promise<bigint[]> {
    const cache = this.balances;
    const values = this.values;
    return Promise.all(
      parties.map((account) => {
        const key = account.toLowerCase();
        let balance = cache.get(key);
        if (!balance) {
          balance = this.balanceOf(account);
          cache.set(key, balance);
          balance.then(
            (v) => values.set(key, v),
            () => cache.delete(key), // a failed read is retried next time, not cached
          );
        }
        return balance;
      }),
    );
  }

  /** One read, of the escrow `key` names: a trust key with no LilyTrustDeals on the client is a CONFIG error, never LilyDeals' balance. */
  private balanceOf(key: BackingKey): Promise<bigint> {
    const { account, trust } = keyParty(key);
    if (!trust) return escrowBalance(this.client, { account });
    return (async () => escrowBalance(this.client, { account, escrow: trustDealsAddress(this.client.addresses) }))();
  }

  /** Move to the chain's latest block (returned): balances read at an earlier one are forgotten. */
  async sync(): Promise<bigint> {
    // Typed (UNREACHABLE while the node is away), so a request that needed it answers 502 UNREACHABLE
    // (which clients wait out) rather than 500 INTERNAL (which they give up on).
    const block = await withLilyErrors(() => this.client.publicClient.getBlockNumber({ cacheTime: 0 }));
    if (block !== this.block) {
      this.block = block;
      this.balances = new Map();
      this.values = new Map();
    }
    return block;
  }

  /** A party's free escrow if it was read at the current block, else undefined. */
  peek(party: BackingKey): bigint | undefined {
    return this.values.get(party.toLowerCase());
  }
}
