// @lily/modules: the catalogue of built modules, read from dist/ (written by `npm run build`).
// Every entry is checked against the CIDs recorded at build time before it is handed out.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { LilyError, ModuleManifest, cidForRecord, decodeRecord, parse, verifyCid } from "@lily/protocol";

export const DIST_DIR = fileURLToPath(new URL("./dist/", import.meta.url));

export interface CatalogEntry {
  /** name@version, e.g. `cowsay@1.0.0`. */
  ref: string;
  manifest: ModuleManifest;
  manifestCid: string;
  /** The manifest's dag-json encoding (`encodeRecord`), whose CID is `manifestCid`. */
  manifestBytes: Uint8Array;
  wasmCid: string;
  wasmBytes: Uint8Array;
}

function notBuilt(what: string): LilyError {
  return new LilyError({ code: "CONFIG", field: "modules/dist", message: `modules are not built: ${what} is missing`, hint: "run npm run build" });
}

function mismatch(ref: string, file: string, cid: string): LilyError {
  return new LilyError({
    code: "CID_MISMATCH",
    field: `modules/dist/${ref}/${file}`,
    message: `${ref}/${file} does not hash to ${cid}`,
    hint: "run npm run build",
  });
}

/** Every built module, in name order, verified against dist/index.json. */
export function loadCatalog(distDir: string = DIST_DIR): CatalogEntry[] {
  const indexPath = join(distDir, "index.json");
  if (!existsSync(indexPath)) throw notBuilt(indexPath);
  const index = JSON.parse(readFileSync(indexPath, "utf8")) as Record<string, { manifest: string; wasm: string }>;
  return Object.entries(index).map(([ref, cids]) => {
    const dir = join(distDir, ref);
    if (!existsSync(join(dir, "manifest.json")) || !existsSync(join(dir, "module.wasm"))) throw notBuilt(dir);
    const manifest = parse(ModuleManifest, decodeRecord(readFileSync(join(dir, "manifest.json"))), `${ref}/manifest.json`);
    const { cid: manifestCid, bytes: manifestBytes } = cidForRecord(manifest);
    // REJECT: the manifest must be the record the build indexed
    if (manifestCid !== cids.manifest) throw mismatch(ref, "manifest.json", cids.manifest);
    const wasmBytes = new Uint8Array(readFileSync(join(dir, "module.wasm")));
    // REJECT: the binary must be the one the manifest names
    const wasmCid = manifest.executor.kind === "wasm" ? manifest.executor.wasm : "";
    if (wasmCid !== cids.wasm || !verifyCid(wasmCid, wasmBytes)) throw mismatch(ref, "module.wasm", cids.wasm);
    return { ref, manifest, manifestCid, manifestBytes, wasmCid: cids.wasm, wasmBytes };
  });
}

export { loadContainerCatalog, verifyArchive, type ContainerCatalogEntry } from "./containers/catalog.ts";
