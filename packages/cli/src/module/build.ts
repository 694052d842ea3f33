// `lily module build`: turn a module's folder into what gets published: its artifact (a WASI
// binary, or a container image saved as a `docker save` archive) and its manifest with the
// artifact's content ids filled in, both under <dir>/build. The manifest's CID is the module's id.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { LilyError, ModuleManifest, cidForBytes, cidForRecord, moduleRef, parse } from "@lily/protocol";
import { compileAssemblyScript } from "@lily/modules/compile";

export interface BuiltModule {
  dir: string;
  ref: string;
  manifest: ModuleManifest;
  manifestCid: string;
  /** The manifest's dag-json bytes (what hashes to manifestCid). */
  manifestBytes: Uint8Array;
  /** The artifact on disk and the CID it is stored under. */
  artifact: { kind: "wasm" | "docker"; path: string; cid: string };
}

/** A container image builder (Debian packages → image → archive); absent where Docker is not available. */
export interface ImageBuilder {
  build(
    dir: string,
    declared: Record<string, unknown>,
    onProgress: (line: string) => void,
  ): Promise<{ image: string; archivePath: string; archiveCid: string }>;
}

/** Read <dir>/manifest.json as declared by the creator (the artifact's CIDs not yet filled in). */
export function readDeclaredManifest(dir: string): Record<string, unknown> {
  const path = join(dir, "manifest.json");
  if (!existsSync(path))
    throw new LilyError({ code: "INVALID_INPUT", field: "dir", message: `${dir} has no manifest.json (create a module with \`lily module init\`)` });
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  } catch (e) {
    throw new LilyError({ code: "INVALID_INPUT", field: "manifest.json", message: `manifest.json: not JSON (${(e as Error).message})` });
  }
}

export async function buildModuleDir(dirArg: string, opts: { images?: ImageBuilder; onProgress?: (line: string) => void } = {}): Promise<BuiltModule> {
  const dir = resolve(dirArg);
  const progress = opts.onProgress ?? (() => {});
  const declared = readDeclaredManifest(dir);
  const kind = (declared.executor as { kind?: unknown } | undefined)?.kind;
  const outDir = join(dir, "build");
  mkdirSync(outDir, { recursive: true });
  let executor: Record<string, unknown>;
  let artifact: BuiltModule["artifact"];
  if (kind === "wasm") {
    const entry = join("assembly", "index.ts");
    if (!existsSync(join(dir, entry))) throw new LilyError({ code: "INVALID_INPUT", field: "dir", message: `${dir}: a wasm module needs ${entry}` });
    progress(`compiling ${entry}`);
    const wasm = await compileAssemblyScript(entry, dir);
    const path = join(outDir, "module.wasm");
    writeFileSync(path, wasm);
    artifact = { kind: "wasm", path, cid: cidForBytes(wasm) };
    executor = { kind: "wasm", wasm: artifact.cid };
  } else if (kind === "docker") {
    if (!opts.images)
      throw new LilyError({
        code: "EXECUTOR_UNAVAILABLE",
        field: "executor",
        message: "building a container module needs a Docker engine and debootstrap (run as root with Docker installed)",
      });
    const built = await opts.images.build(dir, declared, progress);
    artifact = { kind: "docker", path: built.archivePath, cid: built.archiveCid };
    executor = { ...(declared.executor as object), image: built.image, archive: built.archiveCid };
  } else {
    throw new LilyError({
      code: "INVALID_INPUT",
      field: "manifest.executor.kind",
      message: `manifest.executor.kind: must be "wasm" or "docker", got ${JSON.stringify(kind)}`,
    });
  }
  const manifest = parse(ModuleManifest, { ...declared, executor }, `${dir}/manifest.json`);
  const record = cidForRecord(manifest);
  writeFileSync(join(outDir, "manifest.json"), record.bytes);
  writeFileSync(join(outDir, "build.json"), `${JSON.stringify({ ref: moduleRef(manifest), manifest: record.cid, artifact: artifact.cid }, null, 2)}\n`);
  return { dir, ref: moduleRef(manifest), manifest, manifestCid: record.cid, manifestBytes: record.bytes, artifact };
}
