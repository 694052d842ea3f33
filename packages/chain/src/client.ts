// A Lily client: typed viem clients for one deployment, and optionally an account to send from.
// Actions (src/actions/) take it as their first argument, viem style.
import { defineChain, type Chain, type LocalAccount } from "viem";
import { LilyError, type Domain } from "@lily/protocol";
import type { LilyAddresses } from "./deploy.ts";
import { dealDomain } from "./deal.ts";
import { rpcTransport } from "./rpcTransport.ts";
import { lilyPublicClient, lilyWalletClient, type LilyPublicClient, type LilyWalletClient } from "./viemClients.ts";

export interface LilyClientOptions {
  rpcUrl: string;
  /** Signs and pays for transactions; read-only without it. */
  account?: LocalAccount;
  addresses: LilyAddresses;
  /** How often to poll for receipts and blocks; 100 ms on loopback, 1 s elsewhere. */
  pollingIntervalMs?: number;
}

export interface LilyClient {
  rpcUrl: string;
  addresses: LilyAddresses;
  /** The EIP-712 domain deals on this deployment are signed under. */
  domain: Domain;
  account?: LocalAccount;
  publicClient: LilyPublicClient;
  walletClient?: LilyWalletClient<Chain, LocalAccount>;
}

/** A client that can send transactions. */
export type LilyWriteClient = LilyClient & Required<Pick<LilyClient, "account" | "walletClient">>;

export function createLilyClient({ rpcUrl, account, addresses, pollingIntervalMs }: LilyClientOptions): LilyClient {
  const chain = lilyChain(addresses.chainId, rpcUrl);
  const pollingInterval = pollingIntervalMs ?? (isLoopback(rpcUrl) ? 100 : 1_000);
  // viem's http transport, over node:http and without loading undici (rpcTransport.ts).
  const transport = rpcTransport(rpcUrl);
  return {
    rpcUrl,
    addresses,
    domain: dealDomain(addresses),
    account,
    publicClient: lilyPublicClient({ chain, transport, pollingInterval }),
    walletClient: account ? lilyWalletClient({ account, chain, transport, pollingInterval }) : undefined,
  };
}

/** Narrow a client to one with an account, or fail naming what is missing. */
export function requireAccount(client: LilyClient): LilyWriteClient {
  if (!client.account || !client.walletClient) {
    throw new LilyError({ code: "CONFIG", field: "account", message: "this action sends a transaction and needs an account" });
  }
  return client as LilyWriteClient;
}

/** A viem chain for an arbitrary chain id and RPC URL. */
export function lilyChain(id: number, rpcUrl: string): Chain {
  return defineChain({
    id,
    name: `lily-${id}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
}

function isLoopback(rpcUrl: string): boolean {
  const host = new URL(rpcUrl).hostname;
  return host === "localhost" || host === "127.0.0.1" || host === "[::1]";
}
