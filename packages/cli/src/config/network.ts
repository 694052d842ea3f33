// network.json: how to reach one Lily network. Written by `lily devnet`; read by every other
// command; any field can be overridden by a flag (--rpc-url, --solver-url, --store-url ...).
import { readFileSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { dirname } from "node:path";
import * as z from "zod";
import { address, cid, LilyError, parse } from "@lily/protocol";

export const NetworkConfig = z.object({
  rpcUrl: z.string().url(),
  chainId: z.number().int().positive(),
  token: address,
  deals: address,
  /** The ModuleRegistry contract. */
  registry: address,
  /** The LilyLeases contract (Anura's inference leases). */
  leases: address,
  /** The LilyTrustDeals contract, when trust deals open there in batches (`lily devnet --trust-deals`). */
  trustDeals: address.optional(),
  deployBlock: z.number().int().nonnegative(),
  solverUrl: z.string().url(),
  storeUrl: z.string().url(),
  /** name@version -> module manifest CID (the registry issue anchors this on chain). */
  modules: z.record(z.string(), cid),
  /** The inference gateway (Anura) the devnet runs, if any: `lily keys` and `lily receipt` talk to it. */
  gatewayUrl: z.string().url().optional(),
  /** Mediators running on this network; job creators list them in their offers by default. */
  mediators: z.array(address).default([]),
});
export type NetworkConfig = z.infer<typeof NetworkConfig>;

export function readNetwork(path: string): NetworkConfig {
  if (!existsSync(path)) {
    throw new LilyError({
      code: "CONFIG",
      field: "network",
      message: `no network configured (${path} not found)`,
      hint: "start one with `npx lily devnet` in another terminal, or pass --rpc-url, --chain-id, --deals, --token, --registry, --leases, --solver-url and --store-url",
    });
  }
  return parse(NetworkConfig, JSON.parse(readFileSync(path, "utf8")), "network.json");
}

export function writeNetwork(path: string, cfg: NetworkConfig): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(cfg, null, 2)}\n`);
}
