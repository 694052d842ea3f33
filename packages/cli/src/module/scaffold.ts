// `lily module init`: a new module's folder that builds and runs as it stands, so a creator starts
// from something that works. A WASM module is AssemblyScript with Lily's small WASI helper copied
// in (the folder needs nothing outside itself); a container module is a shell program (`run`),
// the Debian packages its image is built from and sample inputs for the build (`probe.sh`).
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { LilyError } from "@lily/protocol";

export type ModuleKind = "wasm" | "docker";

const WASI_HELPER = fileURLToPath(import.meta.resolve("@lily/modules/lib/wasi.ts"));

const NAME = /^[a-z][a-z0-9-]{0,63}$/;

/** The files of a new module named `name`, by path relative to its folder. */
export function scaffoldFiles(name: string, kind: ModuleKind, creator?: string): Record<string, string> {
  const manifest = {
    name,
    version: "0.1.0",
    description: `${name}: says hello to whoever is named in its input`,
    executor: kind === "wasm" ? { kind: "wasm" } : { kind: "docker", command: ["/lily/run"] },
    inputs: { who: { type: "string", description: "Whom to greet.", default: "world", maxLength: 200 } },
    required: [],
    outputs: { "greeting.txt": { description: "The greeting.", mediaType: "text/plain" } },
    resources: { cpu: 1, memoryMb: kind === "wasm" ? 16 : 64, timeoutSeconds: 30 },
    determinism: "deterministic",
    license: "MIT",
    ...(creator && { creator }),
    royaltyBps: 0,
  };
  const files: Record<string, string> = { "manifest.json": `${JSON.stringify(manifest, null, 2)}\n` };
  if (kind === "wasm") {
    files["assembly/index.ts"] = [
      `// ${name}: greets INPUT_WHO on stdout and in /outputs/greeting.txt.`,
      `import { input, print, writeFile } from "./wasi";`,
      ``,
      `const greeting = "hello, " + input("who", "world");`,
      `print(greeting);`,
      `writeFile("/outputs/greeting.txt", greeting + "\\n");`,
      ``,
    ].join("\n");
  } else {
    files.run = [
      `#!/bin/sh`,
      `# ${name}: greets INPUT_WHO on stdout and in /outputs/greeting.txt. Inputs are in /inputs`,
      `# (inputs.json, and each file input by name); /outputs is the only writable place.`,
      `set -eu`,
      `greeting="hello, \${INPUT_WHO:-world}"`,
      `echo "$greeting"`,
      `echo "$greeting" > /outputs/greeting.txt`,
      ``,
    ].join("\n");
    files.packages = "# Debian (bookworm) packages installed into the image (one a line), beyond debootstrap's minbase.\njq\n";
    // Run once at build time on sample inputs: what it never loads is pruned from the image.
    files["probe.sh"] = `#!/bin/sh\n# Build-time sample inputs.\nprintf '{"who":"world"}' >/inputs/inputs.json\n`;
  }
  return files;
}

/** Write a new module into `dir` (which must not exist or be empty). Returns the files written. */
export function scaffoldModule(dir: string, name: string, kind: ModuleKind, creator?: string): string[] {
  if (!NAME.test(name)) {
    throw new LilyError({
      code: "INVALID_INPUT",
      field: "name",
      message: `name: "${name}" must be lower-case letters, digits and dashes, starting with a letter (at most 64)`,
    });
  }
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    throw new LilyError({ code: "CONFLICT", field: "dir", message: `${dir} already exists and is not empty: nothing was written` });
  }
  const files = scaffoldFiles(name, kind, creator);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  if (kind === "wasm") copyFileSync(WASI_HELPER, join(dir, "assembly", "wasi.ts"));
  else chmodSync(join(dir, "run"), 0o755);
  return [...Object.keys(files), ...(kind === "wasm" ? ["assembly/wasi.ts"] : [])].sort();
}
