// The network a command talks to: network.json from the devnet, with any flag overriding it.
import type { Command } from "commander";
import * as z from "zod";
import { LilyError, parse, address, type NetworkEndpoints } from "@lily/protocol";
import { lilyHome, paths } from "./home.ts";
import { readNetwork, NetworkConfig } from "./network.ts";

export interface NetworkFlags {
  rpcUrl?: string;
  solverUrl?: string;
  storeUrl?: string;
  deals?: string;
  token?: string;
  registry?: string;
  leases?: string;
  trustDeals?: string;
  chainId?: string;
}

export function addNetworkFlags(cmd: Command): Command {
  return cmd
    .option("--rpc-url <url>", "EVM JSON-RPC endpoint (default: from network.json)")
    .option("--solver-url <url>", "solver to use (default: from network.json)")
    .option("--store-url <url>", "content-addressed store (default: from network.json)")
    .option("--deals <address>", "LilyDeals contract address")
    .option("--token <address>", "Lily token address")
    .option("--registry <address>", "ModuleRegistry contract address")
    .option("--leases <address>", "LilyLeases contract address (inference leases)")
    .option("--trust-deals <address>", "LilyTrustDeals contract address, if trust deals open there")
    .option("--chain-id <id>", "chain id of --rpc-url");
}

export function resolveNetwork(cmd: Command): NetworkConfig & { home: string } {
  const o = cmd.optsWithGlobals() as NetworkFlags & { home?: string };
  const home = lilyHome(o.home);
  const flagged = o.rpcUrl && o.solverUrl && o.storeUrl && o.deals && o.token && o.registry && o.leases && o.chainId;
  let base: Partial<NetworkConfig> = {};
  if (!flagged) base = readNetwork(paths(home).network);
  const merged = {
    ...base,
    ...(o.rpcUrl && { rpcUrl: o.rpcUrl }),
    ...(o.solverUrl && { solverUrl: o.solverUrl }),
    ...(o.storeUrl && { storeUrl: o.storeUrl }),
    ...(o.deals && { deals: parse(address, o.deals, "--deals") }),
    ...(o.token && { token: parse(address, o.token, "--token") }),
    ...(o.registry && { registry: parse(address, o.registry, "--registry") }),
    ...(o.leases && { leases: parse(address, o.leases, "--leases") }),
    ...(o.trustDeals && { trustDeals: parse(address, o.trustDeals, "--trust-deals") }),
    ...(o.chainId && { chainId: parse(z.coerce.number().int().positive(), o.chainId, "--chain-id") }),
  };
  if (!merged.modules) merged.modules = {};
  if (merged.deployBlock === undefined) merged.deployBlock = 0;
  try {
    return { ...parse(NetworkConfig, merged, "network"), home };
  } catch (e) {
    if (e instanceof LilyError) e.details.hint ??= "pass the missing flag or start `npx lily devnet`";
    throw e;
  }
}

/** The network fields every role's options share, taken from the resolved network. */
export function roleNetwork(net: NetworkConfig): NetworkEndpoints {
  const { rpcUrl, chainId, token, deals, registry, leases, trustDeals, deployBlock, solverUrl, storeUrl } = net;
  return { rpcUrl, chainId, token, deals, registry, leases, ...(trustDeals && { trustDeals }), deployBlock, solverUrl, storeUrl };
}
