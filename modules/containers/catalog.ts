// The catalogue of built container modules, read from dist/images/ (written by `npm run
// build:images`): each module's manifest (checked against the CID the build indexed), its image ID
// and the archive that carries the image, by CID. The archive's bytes are checked against its CID
// on request (`verifyArchive`): hashing a few hundred MB is not free, and the store re-hashes every
// chunk when the archive is put into it anyway.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { LilyError, ModuleManifest, cidForRecord, decodeRecord, parse, type DockerModuleExecutor } from "@lily/protocol";
import { archiveCid } from "../scripts/images/archiveCid.ts";

export const IMAGES_DIR = fileURLToPath(new URL("../dist/images/", import.meta.url));

export interface ContainerCatalogEntry {
  /** name@version. */
  ref: string;
  manifest: ModuleManifest & { executor: DockerModuleExecutor };
  manifestCid: string;
  /** The manifest's dag-json encoding, whose CID is `manifestCid`. */
  manifestBytes: Uint8Array;
  /** The image ID (sha256:...), as the manifest names it. */
  image: string;
  /** The archive's CID in the store, as the manifest names it. */
  archive: string;
  /** The `docker save` archive on this disk. */
  archivePath: string;
}

function notBuilt(what: string): LilyError {
  return new LilyError({
    code: "CONFIG",
    field: "modules/dist/images",
    message: `container modules are not built: ${what} is missing`,
    hint: "run npm run build:images (as root)",
  });
}

/** Every built container module, in name order, checked against dist/images/index.json. */
export function loadContainerCatalog(imagesDir: string = IMAGES_DIR): ContainerCatalogEntry[] {
  const indexPath = join(imagesDir, "index.json");
  if (!existsSync(indexPath)) throw notBuilt(indexPath);
  const index = JSON.parse(readFileSync(indexPath, "utf8")) as Record<string, { manifest: string; image: string; archive: string }>;
  return Object.entries(index)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([ref, ids]) => {
      const manifestPath = join(imagesDir, ref, "manifest.json");
      const archivePath = join(imagesDir, `${ref}.tar`);
      if (!existsSync(manifestPath)) throw notBuilt(manifestPath);
      if (!existsSync(archivePath)) throw notBuilt(archivePath);
      const manifest = parse(ModuleManifest, decodeRecord(readFileSync(manifestPath)), `${ref}/manifest.json`);
      const { cid: manifestCid, bytes: manifestBytes } = cidForRecord(manifest);
      const executor = manifest.executor;
      // REJECT: the manifest must be the record the build indexed, naming the image and archive it made
      if (manifestCid !== ids.manifest || executor.kind !== "docker" || executor.image !== ids.image || executor.archive !== ids.archive)
        throw new LilyError({
          code: "CID_MISMATCH",
          field: `modules/dist/images/${ref}/manifest.json`,
          message: `${ref}/manifest.json is not the manifest the build indexed (${ids.manifest})`,
          hint: "run npm run build:images",
        });
      return { ref, manifest: { ...manifest, executor }, manifestCid, manifestBytes, image: executor.image, archive: ids.archive, archivePath };
    });
}

/** Hash the entry's archive as the store will; CID_MISMATCH when it is not the archive the manifest names. */
export async function verifyArchive(entry: Pick<ContainerCatalogEntry, "ref" | "archive" | "archivePath">): Promise<void> {
  const { cid } = await archiveCid(entry.archivePath);
  // REJECT: the archive on disk must be the one the manifest names
  if (cid !== entry.archive)
    throw new LilyError({
      code: "CID_MISMATCH",
      field: `modules/dist/images/${entry.ref}.tar`,
      message: `${entry.ref}.tar hashes to ${cid}, not ${entry.archive}`,
      hint: "run npm run build:images",
    });
}
