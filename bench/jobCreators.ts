// The job creators a benchmark drives on a devnet: funded by the devnet's deployer (anvil's first
// dev account), depositing into escrow from their own accounts, each with an in-process SDK client
// that reads the devnet's network.json.
import type { LocalAccount } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { addressesOf, createLilyClient, deposit, devAccounts, fundAccount, type LilyClient } from "@lily/chain";
import { createJobCreator, type JobCreator } from "@lily/sdk";
import type { NetworkJson } from "./devnet.ts";

/** A chain client on the devnet, sending as `account` if given. */
export const chainOn = (n: NetworkJson, account?: LocalAccount): LilyClient => createLilyClient({ rpcUrl: n.rpcUrl, account, addresses: addressesOf(n) });

/** The SDK client of `account` on the devnet, with the devnet's modules. */
export function jobCreatorOn(n: NetworkJson, account: LocalAccount, deps?: Parameters<typeof createJobCreator>[1]): JobCreator {
  const { rpcUrl, solverUrl, storeUrl } = n;
  return createJobCreator({ account, rpcUrl, ...addressesOf(n), solverUrl, storeUrl }, deps);
}

export interface EscrowFunding {
  account: LocalAccount;
  /** LILY sent and deposited into escrow. */
  amount: bigint;
  /** Gas money, if the account has none. */
  eth?: bigint;
}

/**
 * Send each account its LILY (and gas) from the deployer, one transaction at a time (it is one
 * account: one nonce sequence), then let every account deposit it into escrow, all at once.
 * `onFunded(k)` is told after the k-th account is funded. On a network that opens trust deals on
 * LilyTrustDeals, the same amount goes into its escrow too (sent besides).
 */
export async function fundEscrow(n: NetworkJson, funding: EscrowFunding[], onFunded: (k: number) => void = () => {}): Promise<void> {
  const bank = chainOn(n, privateKeyToAccount(devAccounts[0]!));
  for (const [i, { account, amount, eth }] of funding.entries()) {
    await fundAccount(bank, { to: account.address, eth, tokens: n.trustDeals ? 2n * amount : amount });
    onFunded(i + 1);
  }
  await Promise.all(
    funding.map(async ({ account, amount }) => {
      const client = chainOn(n, account);
      await deposit(client, { amount });
      if (n.trustDeals) await deposit(client, { amount, escrow: n.trustDeals });
    }),
  );
}
