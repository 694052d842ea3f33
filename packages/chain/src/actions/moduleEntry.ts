// The registry's stored entry (manifest digest, creator, royalty, publication time) as the
// protocol's RegistryEntry: the manifest digest back to its CID, numbers as numbers. Shared by the
// registry's read actions.
import { getAddress, type Hex } from "viem";
import { DAG_JSON_CODEC, cidFromDigest, type RegistryEntry } from "@lily/protocol";

/** The tuple ModuleRegistry returns for one version. */
export interface RawModuleEntry {
  manifest: Hex;
  creator: Hex;
  royaltyBps: number;
  publishedAt: number;
}

export function toRegistryEntry(name: string, version: string, raw: RawModuleEntry): RegistryEntry {
  return {
    name,
    version,
    // The registry holds the sha-256 digest of the manifest's dag-json block; its CID follows.
    manifestCid: cidFromDigest(raw.manifest, DAG_JSON_CODEC),
    creator: getAddress(raw.creator),
    royaltyBps: raw.royaltyBps,
    publishedAt: raw.publishedAt,
  };
}
