// Bundle the `lily` command into packages/cli/dist/ (run by `npm run build:cli`, so by `npm install`
// and `npm test`). Started from its TypeScript sources, `lily run` resolves ~830 ES modules (viem's
// barrel alone is 358) and spends about 200 ms of its start-up doing it; one tree-shaken bundle,
// split at the commands' dynamic imports so each command still loads only what it uses, removes
// most of that. `lily run` also gets a bundle of its own (dist/run.js), and the top-level help its
// rendered text (dist/help.json). bin/lily.js runs each only while every source it was built from
// is unchanged (dist/inputs.json, run.inputs.json, help.json's list), and the sources otherwise,
// so an edit is never shadowed by a stale build.
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Plugin } from "esbuild";

const cliDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const repoRoot = resolve(cliDir, "../..");
const distDir = join(cliDir, "dist");

/**
 * Packages loaded from node_modules rather than bundled: native code and binaries found next to
 * their package (llama.cpp, anvil, solc), and large ones only a rare command or a lazy path loads
 * (the AssemblyScript compiler for `lily module build`, siwe and ethers for a wallet sign-in).
 */
const EXTERNAL = [
  "node-llama-cpp",
  "@foundry-rs/anvil",
  "solc",
  "assemblyscript",
  "assemblyscript/*",
  "siwe",
  "ethers",
  "playwright-core",
  "bufferutil",
  "utf-8-validate",
];

/**
 * Worker threads' entry files, each bundled beside main.js under its own name. The code that starts
 * one names it as `new URL("./<name>.ts", import.meta.url)`; in the bundle that becomes the
 * bundled `./<name>.js`. Left pointing at the source, every worker started from the bundle loaded
 * Node's type stripper for itself: ~135 ms of CPU a worker start instead of ~70 (a provider
 * starts a WASI worker every few jobs at load).
 */
const WORKER_ENTRIES = [join(repoRoot, "packages/executor/src/wasiWorker.ts")];

/**
 * Keeps `import.meta.url` meaning the source file's own location: the code finds files beside it
 * (built modules, bin/lily.js for the devnet's role processes). The replacement is relative to
 * the bundle, so the checkout can move. A worker entry's URL is first pointed at its bundle.
 */
const sourceLocation: Plugin = {
  name: "source-import-meta-url",
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async ({ path }) => {
      let contents = await readFile(path, "utf8");
      if (!path.includes("/node_modules/") && contents.includes("import.meta.url")) {
        const here = `new URL(${JSON.stringify(relative(distDir, path))}, import.meta.url).href`;
        contents = contents.replaceAll("import.meta.url", here);
        for (const entry of WORKER_ENTRIES.filter((e) => dirname(e) === dirname(path))) {
          const name = basename(entry, ".ts");
          contents = contents.replaceAll(`new URL("./${name}.ts", ${here})`, `new URL("./${name}.js", import.meta.url)`);
        }
      }
      return { contents, loader: "ts" };
    });
  },
};

/**
 * Node built-ins that CommonJS dependencies require when they load but use only on paths Lily
 * rarely or never takes, so in the bundle each is loaded at its first use instead. The stand-in
 * hands out the module's own properties, so the package calls the same functions; only when they
 * load changes.
 * - `ws` uses https and tls only for a secure connection (wss:// URLs) and zlib only for a
 *   compressed one (permessage-deflate, which no Lily server accepts): loading them cost `lily run`
 *   ~20 ms of its start-up (tls alone ~16 ms) for the one ws:// subscription it opens.
 * - commander uses child_process only for subcommands that are executables of their own, which
 *   Lily has none of: it loaded Node's child-process and streams code (~7 ms) into every command,
 *   `lily --help` included.
 */
const LAZY_BUILTINS: Record<string, string[]> = { ws: ["https", "tls", "zlib"], commander: ["child_process"] };
const LAZY_NAMESPACE = "lazy-builtin";
const lazyBuiltins: Plugin = {
  name: "lazy-builtins",
  setup(b) {
    for (const [pkg, builtins] of Object.entries(LAZY_BUILTINS)) {
      const filter = new RegExp(`^(node:)?(${builtins.join("|")})$`);
      const inPackage = new RegExp(`[/\\\\]node_modules[/\\\\]${pkg}[/\\\\]`);
      b.onResolve({ filter }, ({ path, importer }) => (inPackage.test(importer) ? { path: path.replace(/^node:/, ""), namespace: LAZY_NAMESPACE } : undefined));
    }
    b.onLoad({ filter: /.*/, namespace: LAZY_NAMESPACE }, ({ path }) => ({
      contents: `let m; const load = () => (m ??= process.getBuiltinModule("node:${path}"));
module.exports = new Proxy({}, { get: (_, key) => load()[key], has: (_, key) => key in load() });`,
      loader: "js",
    }));
  },
};

const began = performance.now();
rmSync(distDir, { recursive: true, force: true });
const common = {
  absWorkingDir: repoRoot,
  outdir: distDir,
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node24",
  external: EXTERNAL,
  // CommonJS dependencies (commander, ws) call require() for Node's built-ins, which an ES module
  // does not have.
  banner: { js: 'import { createRequire as lilyCreateRequire } from "node:module"; const require = lilyCreateRequire(import.meta.url);' },
  metafile: true,
  logLevel: "warning",
} as const;
// Every command, split at the commands' dynamic imports so each loads only the chunks it uses.
const result = await build({
  ...common,
  entryPoints: [join(cliDir, "src/main.ts"), ...WORKER_ENTRIES].map((path) => ({ in: path, out: basename(path, ".ts") })),
  splitting: true,
  plugins: [sourceLocation, lazyBuiltins],
});
// `lily run`, whose start-up every job creator at a terminal waits for, as one file of its own
// (dist/run.js, from src/runMain.ts), which bin/lily.js starts for `lily run`. The main bundle's
// chunks are split by which commands share them, so `run` loaded 31 files holding code only other
// commands use too (the API's server side, the OpenAI routes, lease actions).
const runResult = await build({
  ...common,
  entryPoints: [{ in: join(cliDir, "src/runMain.ts"), out: "run" }],
  splitting: false,
  plugins: [sourceLocation, lazyBuiltins],
});
const outputs = { ...result.metafile.outputs, ...runResult.metafile.outputs };

// V8 keeps a script's source for as long as its functions live, as one byte per character only
// if every character is Latin-1: one em dash in a comment doubled a 1.2 MB chunk on every role's
// heap. esbuild already writes code as ASCII (its default charset) but keeps some comments as
// written, so what is left outside ASCII is in comments; it is replaced there, and a character
// found anywhere that does not look like a comment stops the build.
const NON_ASCII = /[\u0080-\u{10ffff}]/u;
for (const output of Object.keys(outputs)) {
  const path = resolve(repoRoot, output);
  const text = readFileSync(path, "utf8");
  if (!NON_ASCII.test(text)) continue;
  const lines = text.split("\n").map((line, i) => {
    if (!NON_ASCII.test(line)) return line;
    const at = line.search(NON_ASCII);
    const before = line.slice(0, at);
    if (!before.includes("//") && !/^\s*(\*|\/\*)/.test(line))
      throw new Error(`${output}:${i + 1}: a non-ASCII character outside a comment: ${line.trim().slice(0, 120)}`);
    return line.replace(new RegExp(NON_ASCII, "gu"), "?");
  });
  writeFileSync(path, lines.join("\n"));
}

// Every workspace source in `held` (metafile input paths), with the modification time it was built
// from, keyed by its path from dist/.
function sourceTimes(held: string[]): Record<string, number> {
  const times: Record<string, number> = {};
  for (const input of held) {
    if (input.startsWith(`${LAZY_NAMESPACE}:`)) continue; // made here, not read from a file
    const path = resolve(repoRoot, input);
    if (path.includes("/node_modules/")) continue;
    times[relative(distDir, path)] = statSync(path).mtimeMs;
  }
  return times;
}
const inputs = sourceTimes([...new Set([...Object.keys(result.metafile.inputs), ...Object.keys(runResult.metafile.inputs)])]);
writeFileSync(join(distDir, "inputs.json"), `${JSON.stringify(inputs)}\n`);
// The run bundle's own, so `lily run` checks only those (bin/currentBundle.js).
writeFileSync(join(distDir, "run.inputs.json"), `${JSON.stringify(sourceTimes(Object.keys(runResult.metafile.inputs)))}\n`);
// What each output file holds (repo-relative paths), so tests can check what a command loads.
const chunks: Record<string, string[]> = {};
for (const [output, { inputs: held }] of Object.entries(outputs))
  chunks[relative(distDir, resolve(repoRoot, output))] = Object.keys(held).map((i) => relative(repoRoot, resolve(repoRoot, i)));
writeFileSync(join(distDir, "chunks.json"), `${JSON.stringify(chunks)}\n`);

// The top-level help as commander renders it, for bin/staticHelp.js to print without loading the
// bundle: rendered by the bundle just built, so it is the text `lily --help` prints. With it, the
// sources it was rendered from: main.js and the chunks main.js imports statically, since the help
// loads no command (commands/index.ts). Only those can change it, so only they are checked before
// it is printed, not all ~460 sources (~8 ms of stat calls).
const split = result.metafile.outputs;
const mainOutput = Object.keys(split).find((o) => split[o]!.entryPoint === relative(repoRoot, join(cliDir, "src/main.ts")));
if (!mainOutput) throw new Error("the bundle has no main.js");
const helpChunks = new Set([mainOutput]);
for (const output of helpChunks)
  for (const imported of split[output]!.imports) if (imported.kind === "import-statement" && !imported.external) helpChunks.add(imported.path);
const help = {
  text: execFileSync(process.execPath, [join(distDir, "main.js"), "--help"], { encoding: "utf8", env: { ...process.env, NODE_OPTIONS: "" } }),
  inputs: sourceTimes([...helpChunks].flatMap((o) => Object.keys(split[o]!.inputs))),
};
writeFileSync(join(distDir, "help.json"), `${JSON.stringify(help)}\n`);
const files = Object.keys(outputs).length;
process.stdout.write(
  `bundled lily: ${Object.keys(inputs).length} sources into ${files} files in ${relative(repoRoot, distDir)} (${Math.round(performance.now() - began)} ms)\n`,
);
