// Many job creators for end-to-end load tests: fresh keys, funded with gas and LILY by the devnet's
// deployer (one account sending all the funding transactions at once, which its nonce queue must
// survive), each depositing into escrow from its own account, each with its own SDK client. On a
// devnet that opens trust deals on LilyTrustDeals, each deposits as much into that escrow too.
import { parseEther, type Address } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { addressesOf, createLilyClient, deposit, devAccounts, escrowBalance, fundAccount, type LilyClient } from "@lily/chain";
import { createJobCreator, memoryJournal, type JobCreator, type SubmitDefaults } from "@lily/sdk";
import type { Devnet } from "./lilyProcess.ts";

export interface FundedJobCreator {
  address: Address;
  chain: LilyClient;
  sdk: JobCreator;
  /** Its escrow right after the deposit. */
  deposited: bigint;
}

export async function fundJobCreators(net: Devnet, n: number, escrowEach: bigint, submit: Partial<SubmitDefaults> = {}): Promise<FundedJobCreator[]> {
  const net_ = net.network;
  const addresses = addressesOf(net_);
  const bank = createLilyClient({ rpcUrl: net_.rpcUrl, account: privateKeyToAccount(devAccounts[0]!), addresses });
  const accounts = Array.from({ length: n }, () => privateKeyToAccount(generatePrivateKey()));
  // All at once from one account: the chain package's per-account queue orders the nonces.
  const tokens = addresses.trustDeals ? 2n * escrowEach : escrowEach;
  await Promise.all(accounts.map((a) => fundAccount(bank, { to: a.address, eth: parseEther("1"), tokens })));
  return Promise.all(
    accounts.map(async (account) => {
      const chain = createLilyClient({ rpcUrl: net_.rpcUrl, account, addresses });
      await deposit(chain, { amount: escrowEach });
      if (addresses.trustDeals) await deposit(chain, { amount: escrowEach, escrow: addresses.trustDeals });
      const sdk = createJobCreator(
        { account, rpcUrl: net_.rpcUrl, ...addresses, solverUrl: net_.solverUrl, storeUrl: net_.storeUrl },
        { journal: memoryJournal(), submit },
      );
      return { address: account.address, chain, sdk, deposited: await escrowBalance(chain, { account: account.address }) };
    }),
  );
}
