import { getAddress, keccak256, toBytes, type Address, type Hash } from "viem";
import { DAG_JSON_CODEC, cidFromDigest, moduleName, parse } from "@lily/protocol";
import { moduleRegistryAbi } from "../generated/artifacts.ts";
import type { LilyClient } from "../client.ts";
import { withLilyErrors } from "../errors.ts";
import { registryAddress } from "./registryAddress.ts";

/** One publication or name transfer in the registry's history, with the transaction that made it. */
export type ModuleEvent =
  | {
      kind: "published";
      name: string;
      version: string;
      manifestCid: string;
      creator: Address;
      royaltyBps: number;
      txHash: Hash;
      blockNumber: bigint;
      logIndex: number;
    }
  | { kind: "transferred"; name: string; from: Address; to: Address; txHash: Hash; blockNumber: bigint; logIndex: number };

export interface GetModuleEventsParameters {
  /** Only this name's events (filtered by the indexed name hash); default every name. */
  name?: string;
  /** Where to start scanning; default the deployment block. */
  fromBlock?: bigint;
}

/**
 * The registry's history, oldest first: every ModulePublished (name@version, manifest CID,
 * creator, royalty) and NameTransferred event, from the deployment block (or `fromBlock`) on.
 */
export async function getModuleEvents(client: LilyClient, params: GetModuleEventsParameters = {}): Promise<ModuleEvent[]> {
  const nameHash = params.name === undefined ? undefined : keccak256(toBytes(parse(moduleName, params.name, "name")));
  const { publicClient, addresses } = client;
  const registry = registryAddress(client);
  return withLilyErrors(async () => {
    const range = { address: registry, abi: moduleRegistryAbi, fromBlock: params.fromBlock ?? BigInt(addresses.deployBlock), toBlock: "latest" } as const;
    const [published, transferred] = await Promise.all([
      publicClient.getContractEvents({ ...range, eventName: "ModulePublished", args: nameHash ? { nameHash } : undefined, strict: true }),
      publicClient.getContractEvents({ ...range, eventName: "NameTransferred", args: nameHash ? { nameHash } : undefined, strict: true }),
    ]);
    const events: ModuleEvent[] = [
      ...published.map((log) => ({
        kind: "published" as const,
        name: log.args.name,
        version: log.args.version,
        manifestCid: cidFromDigest(log.args.manifest, DAG_JSON_CODEC),
        creator: getAddress(log.args.creator),
        royaltyBps: log.args.royaltyBps,
        txHash: log.transactionHash,
        blockNumber: log.blockNumber,
        logIndex: log.logIndex,
      })),
      ...transferred.map((log) => ({
        kind: "transferred" as const,
        name: log.args.name,
        from: getAddress(log.args.from),
        to: getAddress(log.args.to),
        txHash: log.transactionHash,
        blockNumber: log.blockNumber,
        logIndex: log.logIndex,
      })),
    ];
    return events.sort((a, b) => (a.blockNumber === b.blockNumber ? a.logIndex - b.logIndex : a.blockNumber < b.blockNumber ? -1 : 1));
  });
}
