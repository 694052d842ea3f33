// Publish a built module: its artifact (a WASI binary, or a container image's `docker save`
// archive) and its manifest into the store, each checked to land under the CID the build
// computed, then `name@version` in the on-chain registry from the creator's account. Publishing
// the very same manifest again is a no-op (a devnet restart does it); a different manifest under a
// published version is refused by the registry, as versions are immutable.
import { getModule, publishModule as registryPublish, type LilyClient } from "@lily/chain";
import { isAddressEqual } from "viem";
import { LilyError, artifactCids, isLilyError, moduleRef, type ModelManifest, type ModuleManifest, type RegistryEntry } from "@lily/protocol";
import type { StoreClient } from "@lily/store";

export interface ModuleToPublish {
  /** A module's manifest, or a model's (whose artifact is its weights file). */
  manifest: ModuleManifest | ModelManifest;
  manifestCid: string;
  /** The manifest's dag-json bytes (what hashes to manifestCid). */
  manifestBytes: Uint8Array;
  /** The artifact: bytes in memory (a WASI binary) or a file on disk (an image archive). */
  artifact: { bytes: Uint8Array } | { path: string };
}

export interface PublishedModule {
  ref: string;
  manifestCid: string;
  entry: RegistryEntry;
  /** False when the registry already held this very manifest. */
  published: boolean;
  txHash?: string;
}

export async function publishBuiltModule(peers: { chain: LilyClient; store: StoreClient }, m: ModuleToPublish): Promise<PublishedModule> {
  const ref = moduleRef(m.manifest);
  const publisher = peers.chain.account?.address;
  // REJECT: a manifest that names a creator other than the publisher would send its royalty elsewhere
  if (m.manifest.creator && publisher && !isAddressEqual(m.manifest.creator, publisher)) {
    throw new LilyError({
      code: "INVALID_INPUT",
      field: "manifest.creator",
      message: `manifest.creator: ${m.manifest.creator} is not the publishing account ${publisher}`,
      hint: "set creator to your address (or leave it out for a module without royalty)",
    });
  }
  // REJECT: a royalty needs a creator to be paid
  if (m.manifest.royaltyBps > 0 && !m.manifest.creator) {
    throw new LilyError({
      code: "INVALID_INPUT",
      field: "manifest.creator",
      message: "manifest.creator: a module with a royalty must name its creator (your address)",
    });
  }
  const [artifactCid] = artifactCids(m.manifest);
  if (artifactCid) {
    const stored = "bytes" in m.artifact ? await peers.store.putBytes(m.artifact.bytes) : await peers.store.putFile(m.artifact.path);
    if (stored !== artifactCid) throw mismatch(ref, "artifact", artifactCid, stored);
  }
  const stored = await peers.store.putRecordBytes(m.manifestBytes);
  if (stored !== m.manifestCid) throw mismatch(ref, "manifest", m.manifestCid, stored);

  const existing = await getModule(peers.chain, m.manifest).catch((e: unknown) => {
    if (isLilyError(e, "UNKNOWN_MODULE")) return undefined;
    throw e;
  });
  if (existing?.manifestCid === m.manifestCid) return { ref, manifestCid: m.manifestCid, entry: existing, published: false };
  const { entry, txHash } = await registryPublish(peers.chain, {
    name: m.manifest.name,
    version: m.manifest.version,
    manifestCid: m.manifestCid,
    royaltyBps: m.manifest.royaltyBps,
  });
  return { ref, manifestCid: m.manifestCid, entry, published: true, txHash };
}

function mismatch(ref: string, what: string, expected: string, got: string): LilyError {
  return new LilyError({ code: "CID_MISMATCH", field: `modules.${ref}.${what}`, message: `the store put ${ref}'s ${what} under ${got}, not ${expected}` });
}
