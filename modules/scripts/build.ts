// Build every module (a directory with a manifest.json): compile its AssemblyScript to a WASI
// binary, fill the manifest's `wasm` with the binary's CID, derive the manifest's own CID, and
// write dist/<name>@<version>/{module.wasm,manifest.json} and dist/index.json. It also writes the
// tiny GGUF model the devnet and tests run, dist/models/tiny-llama.gguf (see tinyModel.ts).
// A module whose sources (its directory, lib/, the compiler and its flags) are unchanged since
// the last build is not recompiled (its manifest is still re-derived). One line per module either way.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { ModuleManifest, cidForBytes, cidForRecord, isLilyError, moduleRef, parse } from "@lily/protocol";
import { COMPILER, compileAssemblyScript } from "./compile.ts";
import { TINY_MODEL_FILE, TINY_MODEL_PATH, writeTinyModel } from "./tinyModel.ts";

const MODULES_DIR = dirname(dirname(fileURLToPath(import.meta.url)));
const DIST_DIR = join(MODULES_DIR, "dist");
const LIB_DIR = join(MODULES_DIR, "lib");
const ENTRY = "assembly/index.ts";

interface BuiltModule {
  ref: string;
  /** The manifest's CID. */
  manifest: string;
  /** The binary's CID. */
  wasm: string;
}

/** dist/<ref>/build.json: what was built, from which sources. */
interface BuildStamp {
  sourceHash: string;
  manifest: string;
  wasm: string;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.name !== "build")
    .flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]))
    .sort();
}

function sourceHash(moduleDir: string): string {
  const hash = createHash("sha256").update(JSON.stringify(COMPILER));
  for (const file of [...filesUnder(moduleDir), ...filesUnder(LIB_DIR)]) {
    hash.update(relative(MODULES_DIR, file)).update("\0").update(readFileSync(file)).update("\0");
  }
  return hash.digest("hex");
}

async function buildModule(name: string): Promise<BuiltModule> {
  const moduleDir = join(MODULES_DIR, name);
  const manifestPath = `modules/${name}/manifest.json`;
  const declared = JSON.parse(readFileSync(join(moduleDir, "manifest.json"), "utf8"));
  const ref = moduleRef(parse(ModuleManifest.pick({ name: true, version: true }), declared, manifestPath));
  const outDir = join(DIST_DIR, ref);
  const hash = sourceHash(moduleDir);
  const stampPath = join(outDir, "build.json");
  const stamp = existsSync(stampPath) ? (JSON.parse(readFileSync(stampPath, "utf8")) as BuildStamp) : undefined;
  // Only compiling is skipped when sources are unchanged: the manifest is always re-derived, so a
  // change to the manifest schema (a new default field, say) can never leave a stale CID behind.
  const wasmPath = join(outDir, "module.wasm");
  const cached = stamp?.sourceHash === hash && existsSync(wasmPath) ? new Uint8Array(readFileSync(wasmPath)) : undefined;
  const fresh = cached && cidForBytes(cached) === stamp!.wasm;
  const started = performance.now();
  const wasm = fresh ? cached : await compileAssemblyScript(join(name, ENTRY), MODULES_DIR);
  const wasmCid = cidForBytes(wasm);
  const manifest = parse(ModuleManifest, { ...declared, executor: { kind: "wasm", wasm: wasmCid } }, manifestPath);
  const record = cidForRecord(manifest);
  mkdirSync(outDir, { recursive: true });
  if (!fresh) writeFileSync(wasmPath, wasm);
  writeFileSync(join(outDir, "manifest.json"), record.bytes);
  writeFileSync(stampPath, `${JSON.stringify({ sourceHash: hash, manifest: record.cid, wasm: wasmCid } satisfies BuildStamp, null, 2)}\n`);
  const ms = Math.round(performance.now() - started);
  if (fresh) console.log(`${ref.padEnd(18)} unchanged   ${record.cid}`);
  else console.log(`${ref.padEnd(18)} built       ${record.cid}  (${(wasm.length / 1024).toFixed(1)} KiB, ${ms} ms)`);
  return { ref, manifest: record.cid, wasm: wasmCid };
}

const names = readdirSync(MODULES_DIR)
  .filter((d) => existsSync(join(MODULES_DIR, d, "manifest.json")) && statSync(join(MODULES_DIR, d)).isDirectory())
  .sort();
const built: BuiltModule[] = [];
try {
  for (const name of names) built.push(await buildModule(name));
  mkdirSync(DIST_DIR, { recursive: true });
  const index = Object.fromEntries(built.map(({ ref, manifest, wasm }) => [ref, { manifest, wasm }]));
  writeFileSync(join(DIST_DIR, "index.json"), `${JSON.stringify(index, null, 2)}\n`);
  // The tiny GGUF model the devnet and tests run (dist/models/); rewritten only when its bytes change.
  const model = writeTinyModel(TINY_MODEL_PATH);
  console.log(
    `${TINY_MODEL_FILE.padEnd(18)} ${model.written ? "written  " : "unchanged"}   sha256 ${model.sha256.slice(0, 16)}…  (${(model.sizeBytes / 1024).toFixed(1)} KiB)`,
  );
} catch (e) {
  if (!isLilyError(e)) throw e;
  console.error(`build failed: ${e.message}`);
  if (typeof e.details.diagnostics === "string") console.error(e.details.diagnostics.trimEnd());
  process.exitCode = 1;
}
