import { parseEventLogs } from "viem";
import { DAG_JSON_CODEC, LilyError, cidDigest, moduleName, parse, parseCid, registryVersion, royaltyBasisPoints, type RegistryEntry } from "@lily/protocol";
import { moduleRegistryAbi } from "../generated/artifacts.ts";
import { requireAccount, type LilyClient } from "../client.ts";
import { confirm, written, type WriteResult } from "../confirm.ts";
import { withLilyErrors } from "../errors.ts";
import { writeContract } from "../send.ts";
import { toRegistryEntry } from "./moduleEntry.ts";
import { registryAddress } from "./registryAddress.ts";

export interface PublishModuleParameters {
  name: string;
  /** Semver x.y.z, each part without leading zeros (see `registryVersion`). */
  version: string;
  /** The CID of the module's manifest record (dag-json), already in the store. */
  manifestCid: string;
  /** The publisher's share of each deal's price, in basis points (0 to 10000). */
  royaltyBps: number;
}

export interface PublishModuleReturnType extends WriteResult {
  /** What the registry now holds; `creator` is the sending account. */
  entry: RegistryEntry;
}

/**
 * Publish `name@version` in the module registry, from the client's account, which becomes (or
 * must already be) the creator holding `name`. Bad input fails with INVALID_INPUT naming the
 * field, sending nothing. The chain refuses, decoded as CHAIN_REVERT: a name another creator holds
 * (RegistryNameTaken, with that creator) and a version already published (RegistryVersionExists,
 * with its manifest), even by its own creator.
 */
export async function publishModule(client: LilyClient, params: PublishModuleParameters): Promise<PublishModuleReturnType> {
  requireAccount(client);
  const registry = registryAddress(client);
  const name = parse(moduleName, params.name, "name");
  const version = parse(registryVersion, params.version, "version");
  const bps = parse(royaltyBasisPoints, params.royaltyBps, "royaltyBps");
  const cid = parseCid(params.manifestCid, "manifestCid");
  // REJECT: a manifest is a record (dag-json); the registry stores its digest and rebuilds the CID with that codec.
  if (cid.code !== DAG_JSON_CODEC) {
    throw new LilyError({
      code: "INVALID_INPUT",
      field: "manifestCid",
      message: `manifestCid: ${params.manifestCid} is not a dag-json record's CID (codec 0x${cid.code.toString(16)}); a module is registered by its manifest's CID`,
    });
  }
  const manifest = cidDigest(params.manifestCid);
  return withLilyErrors(async () => {
    const hash = await writeContract(client, {
      address: registry,
      abi: moduleRegistryAbi,
      functionName: "publish",
      args: [name, version, manifest, bps],
    });
    const receipt = await confirm(client, hash);
    const [event] = parseEventLogs({ abi: moduleRegistryAbi, logs: receipt.logs, eventName: "ModulePublished" });
    const block = await client.publicClient.getBlock({ blockNumber: receipt.blockNumber });
    const entry = toRegistryEntry(name, version, {
      manifest: event!.args.manifest,
      creator: event!.args.creator,
      royaltyBps: event!.args.royaltyBps,
      publishedAt: Number(block.timestamp),
    });
    return { ...written(receipt), entry };
  });
}
