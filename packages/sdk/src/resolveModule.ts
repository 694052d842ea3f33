// Turn what a user names into a verified module manifest: `name@version` and `name` (its latest
// version) are looked up in the on-chain registry (Ampli), a manifest CID is taken as given (it is
// self-certifying). The manifest is fetched from the store by its CID and must be the very one
// the registry names, calling itself by that name and version, with the royalty the registry holds.
import { getModule, latestModule, type LilyClient } from "@lily/chain";
import { LilyError, ModuleManifest, isCid, isModelManifest, isLilyError, parse, registryMismatch, type RegistryEntry } from "@lily/protocol";
import type { StoreClient } from "@lily/store";
import type { Recent } from "./recent.ts";

export interface ResolvedModule {
  cid: string;
  manifest: ModuleManifest;
  /** The registry's record, when the module was named by name (absent for a bare CID). */
  entry?: RegistryEntry;
}

/** Split `name@version` (or a bare `name`) as a user typed it. */
export function parseModuleRef(ref: string): { name: string; version?: string } {
  const at = ref.lastIndexOf("@");
  return at > 0 ? { name: ref.slice(0, at), version: ref.slice(at + 1) } : { name: ref };
}

/**
 * Who a manifest is read from; `recent`, if given, keeps for the next job the manifests fetched (by
 * CID) and the registry's entries for exact versions (by name@version: a published version never
 * changes, ModuleRegistry refuses to publish it again).
 */
export interface ManifestPeers {
  chain: LilyClient;
  store: StoreClient;
  recent?: { manifests: Recent<string, unknown>; entries?: Recent<string, RegistryEntry> };
}

export async function resolveModule(ref: string, peers: ManifestPeers): Promise<ResolvedModule> {
  return resolveRegistered(ref, peers, (record) => {
    // REJECT: a model is not a module; say so rather than listing every missing field
    if (isModelManifest(record)) {
      throw new LilyError({
        code: "UNKNOWN_MODULE",
        field: "module",
        message: `"${ref}" is a model, not a module: call it through the gateway's /v1/chat/completions`,
        details: { model: true },
      });
    }
    return parse(ModuleManifest, record, "module manifest");
  });
}

/**
 * Resolve `ref` to a registered manifest of any kind (a module's, a model's), read by `read`. The
 * registry lookup and its checks are the same for every kind; only the manifest's schema differs.
 */
export async function resolveRegistered<M extends { name: string; version: string; royaltyBps: number }>(
  ref: string,
  peers: ManifestPeers,
  read: (record: unknown) => M,
): Promise<{ cid: string; manifest: M; entry?: RegistryEntry }> {
  if (isCid(ref)) return { cid: ref, manifest: read(await fetchManifest(ref, peers)) };
  const { name, version } = parseModuleRef(ref);
  // The latest version moves as versions are published: only an exact version is kept.
  const key = version === undefined ? undefined : `${name}@${version}`;
  const kept = key === undefined ? undefined : peers.recent?.entries?.get(key);
  let entry: RegistryEntry;
  try {
    entry = kept ?? (version === undefined ? await latestModule(peers.chain, { name }) : await getModule(peers.chain, { name, version }));
  } catch (e) {
    if (isLilyError(e, "UNKNOWN_MODULE") || isLilyError(e, "INVALID_INPUT")) {
      throw new LilyError({
        code: "UNKNOWN_MODULE",
        field: "module",
        message: `unknown module "${ref}": ${e.message}`,
        hint: "list the published modules with `lily module list`",
      });
    }
    throw e;
  }
  const manifest = read(await fetchManifest(entry.manifestCid, peers));
  // REJECT: the manifest must be the one the registry names, under that name and version
  const mismatch = registryMismatch(entry, { cid: entry.manifestCid, manifest });
  // REJECT: the royalty the deal will carry (the manifest's) must be the one the registry holds
  const royaltyDiffers = manifest.royaltyBps !== entry.royaltyBps;
  if (mismatch || royaltyDiffers) {
    throw new LilyError({
      code: "UNKNOWN_MODULE",
      field: "module",
      message: `module "${ref}" is not usable: ${mismatch ? mismatch.reason : `its manifest asks ${manifest.royaltyBps} bps royalty, the registry holds ${entry.royaltyBps}`}`,
    });
  }
  if (key !== undefined) peers.recent?.entries?.set(key, entry);
  return { cid: entry.manifestCid, manifest, entry };
}

async function fetchManifest(cid: string, { store, recent }: ManifestPeers): Promise<unknown> {
  // The store verified it against its CID: the same bytes, whoever asks again. Each reader parses
  // it anew (`read`), so no caller holds the kept value itself.
  const kept = recent?.manifests.get(cid);
  if (kept !== undefined) return kept;
  let record: unknown;
  try {
    record = await store.getRecord(cid);
  } catch (e) {
    if (e instanceof LilyError && e.code === "NOT_FOUND") {
      throw new LilyError({ code: "UNKNOWN_MODULE", field: "module", message: `module manifest ${cid} is not in the store at ${store.url}` });
    }
    throw e;
  }
  recent?.manifests.set(cid, record);
  return record;
}
