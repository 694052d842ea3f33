// Compile an AssemblyScript program to a WASI preview1 command, in memory. Source paths are given
// relative to `baseDir` because the binary names its source files (in abort messages): the same
// sources then give the same bytes, and the same CID, on every machine.
import { createRequire } from "node:module";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { LilyError } from "@lily/protocol";

const require = createRequire(import.meta.url);
const shimConfig = require.resolve("@assemblyscript/wasi-shim/asconfig.json");
const shim = JSON.parse(readFileSync(shimConfig, "utf8")) as { options: { lib: string; use: string[]; exportStart: string } };

const versionOf = (pkg: string) => (JSON.parse(readFileSync(require.resolve(`${pkg}/package.json`), "utf8")) as { version: string }).version;

/** Everything besides the sources that decides the output bytes; part of each module's source hash. */
export const COMPILER = {
  assemblyscript: versionOf("assemblyscript"),
  wasiShim: versionOf("@assemblyscript/wasi-shim"),
  flags: ["--optimizeLevel", "3", "--shrinkLevel", "1", "--noAssert", "--runtime", "incremental"],
};

/**
 * Compile `entry` (relative to `baseDir`) with the wasi-shim; throws with the compiler's diagnostics.
 * File access is given to asc explicitly: its defaults resolve some paths against the working
 * directory and others against `baseDir`.
 */
export async function compileAssemblyScript(entry: string, baseDir: string): Promise<Uint8Array> {
  baseDir = resolve(baseDir);
  const { default: asc } = await import("assemblyscript/asc"); // loaded only when something is built
  let wasm: Uint8Array | undefined;
  let diagnostics = "";
  const { error } = await asc.main(
    [
      entry,
      ...["--baseDir", baseDir, "--lib", join(dirname(shimConfig), shim.options.lib), "--exportStart", shim.options.exportStart],
      ...shim.options.use.flatMap((alias) => ["--use", alias]),
      ...COMPILER.flags,
      ...["--outFile", "module.wasm", "--noColors"],
    ],
    {
      stdout: { write: () => {} },
      stderr: {
        write: (chunk) => {
          diagnostics += String(chunk);
        },
      },
      readFile: (name, dir) => (existsSync(resolve(baseDir, dir, name)) ? readFileSync(resolve(baseDir, dir, name), "utf8") : null),
      listFiles: (dir, base) => readdirSync(resolve(baseDir, base, dir)).filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts")),
      writeFile: (name, contents) => {
        if (name.endsWith(".wasm") && typeof contents !== "string") wasm = contents;
      },
    },
  );
  if (error || !wasm) {
    throw new LilyError({
      code: "INVALID_INPUT",
      field: entry,
      message: `${entry}: AssemblyScript compilation failed: ${error?.message ?? "no binary emitted"}`,
      details: { diagnostics },
    });
  }
  return wasm;
}
