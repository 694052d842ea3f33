// Ampli on chain: what the module registry (contracts/ModuleRegistry.sol) holds for one published
// version of a module, the royalty terms a deal takes from it, and the contract's rules for names
// and versions, so a client refuses before sending what the chain would refuse.
import * as z from "zod";
import type { Address } from "viem";
import { ModuleManifest } from "./module.ts";
import { address, cid } from "./schemas.ts";

/** A module name: the manifest's own rule, `^[a-z][a-z0-9-]{0,63}$`, which the contract checks too. */
export const moduleName = ModuleManifest.shape.name;

/** The largest value of one part of a registered version (the contract packs each in 32 bits). */
export const MAX_VERSION_PART = 2 ** 32 - 1;

/**
 * A version the registry accepts: semver `x.y.z`, each part a decimal number below 2^32 without
 * leading zeros, so every version has one spelling (`1.01.0` would be a second spelling of
 * `1.1.0`). Stricter than the manifest's `\d+.\d+.\d+`, on purpose.
 */
export const registryVersion = z
  .string()
  .regex(/^(0|[1-9]\d{0,9})\.(0|[1-9]\d{0,9})\.(0|[1-9]\d{0,9})$/, "must be semver x.y.z, each part a number without leading zeros")
  .refine((v) => v.split(".").every((part) => Number(part) <= MAX_VERSION_PART), `each part of the version must be at most ${MAX_VERSION_PART}`);

/** A royalty in basis points of a deal's price: at most the whole price. */
export const royaltyBasisPoints = z.number().int().min(0).max(10_000);

/** One published version of a module, as the registry holds it. */
export const RegistryEntry = z.object({
  name: moduleName,
  version: registryVersion,
  /** The CID of the module's manifest (a dag-json record). */
  manifestCid: cid,
  /** Who published it: receives `royaltyBps` of the price of every deal that runs it. */
  creator: address,
  royaltyBps: royaltyBasisPoints,
  /** Unix seconds (block time) when it was published. */
  publishedAt: z.number().int().positive(),
});
export type RegistryEntry = z.infer<typeof RegistryEntry>;

/** The royalty terms a job offer and its deals carry (`moduleCreator`, `royaltyBps` in Deal). */
export interface RoyaltyTerms {
  moduleCreator: Address;
  royaltyBps: number;
}

/**
 * The royalty terms of a job that runs the module `entry` registers: its creator is paid its
 * royalty. The registry is where these come from; the manifest's own `creator` and `royaltyBps`
 * are the creator's claim, the registry entry the record that binds.
 */
export function royaltyTermsOf(entry: Pick<RegistryEntry, "creator" | "royaltyBps">): RoyaltyTerms {
  return { moduleCreator: entry.creator, royaltyBps: entry.royaltyBps };
}

/** Whether two royalty terms are the same (addresses compared case-insensitively). */
export function sameRoyaltyTerms(a: RoyaltyTerms, b: RoyaltyTerms): boolean {
  return a.moduleCreator.toLowerCase() === b.moduleCreator.toLowerCase() && a.royaltyBps === b.royaltyBps;
}

/**
 * Why the module at `cid`, whose manifest is `manifest`, is not the version `entry` registers,
 * or undefined when it is. The registry cannot read manifests, so a checker holding one (fetched
 * by its CID) matches it both ways: the manifest names the entry's name@version, and the entry
 * names this CID. Anything else (a manifest nobody registered, or one registered under another
 * name) must not take the entry's royalty terms.
 */
export function registryMismatch(
  entry: Pick<RegistryEntry, "name" | "version" | "manifestCid">,
  module: { cid: string; manifest: { name: string; version: string } },
): { field: string; reason: string } | undefined {
  // REJECT: the manifest must call itself by the entry's name and version.
  if (module.manifest.name !== entry.name || module.manifest.version !== entry.version) {
    return {
      field: "module",
      reason: `the manifest is ${module.manifest.name}@${module.manifest.version}, but the registry entry is ${entry.name}@${entry.version}`,
    };
  }
  // REJECT: the registry must name this very manifest for that name and version.
  if (module.cid !== entry.manifestCid) {
    return {
      field: "module",
      reason: `${entry.name}@${entry.version} is registered with manifest ${entry.manifestCid}, not ${module.cid}`,
    };
  }
  return undefined;
}

/** Semver order of two registry versions: negative, zero or positive, like a sort comparator. */
export function compareVersions(a: string, b: string): number {
  const [pa, pb] = [a, b].map((v) => v.split(".").map(Number));
  for (let i = 0; i < 3; i++) {
    const d = pa![i]! - pb![i]!;
    if (d !== 0) return d;
  }
  return 0;
}
