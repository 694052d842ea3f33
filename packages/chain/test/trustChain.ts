// A fresh anvil with Lily deployed, for the LilyTrustDeals tests: the deployer and anvil's other
// four dev accounts as clients, and a way to give an account LILY in the trust escrow.
import { parseEther, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { createLilyClient, deployLily, deposit, devAccounts, fundAccount, startAnvil, type Anvil, type LilyAddresses, type LilyClient } from "../src/index.ts";

export interface TrustChain {
  anvil: Anvil;
  addresses: LilyAddresses;
  /** Holds the supply. */
  deployer: LilyClient;
  /** anvil's dev accounts 1-4: funded with ether, no LILY yet. */
  accounts: [LilyClient, LilyClient, LilyClient, LilyClient];
  clientFor(key: Hex): LilyClient;
  /** Send `client` `amount` LILY and deposit it into LilyTrustDeals' escrow. */
  fundTrustEscrow(client: LilyClient, amount: bigint): Promise<void>;
}

export async function startTrustChain(): Promise<TrustChain> {
  const anvil = await startAnvil();
  const addresses = await deployLily({ rpcUrl: anvil.rpcUrl, deployerKey: devAccounts[0], supply: parseEther("1000000"), trustDeals: true });
  const clientFor = (key: Hex) => createLilyClient({ rpcUrl: anvil.rpcUrl, account: privateKeyToAccount(key), addresses });
  const [deployer, ...accounts] = [0, 1, 2, 3, 4].map((i) => clientFor(devAccounts[i]!)) as [LilyClient, LilyClient, LilyClient, LilyClient, LilyClient];
  return {
    anvil,
    addresses,
    deployer,
    accounts: accounts as TrustChain["accounts"],
    clientFor,
    async fundTrustEscrow(client, amount) {
      await fundAccount(deployer, { to: client.account!.address, tokens: amount });
      await deposit(client, { amount, escrow: addresses.trustDeals! });
    },
  };
}
