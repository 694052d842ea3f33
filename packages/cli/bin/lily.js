#!/usr/bin/env node
// The `lily` command. A plain-JS shim so the Node version can be checked before any TypeScript
// is loaded: Lily runs its TypeScript sources directly on Node >= 24 (type stripping), which the
// project installs as a devDependency into node_modules/.bin (npx and npm scripts use it).
const [major] = process.versions.node.split(".").map(Number);
if (major < 24) {
  process.stderr.write(
    `lily: needs Node.js >= 24 (this is ${process.version}). Run it through npx (\`npx lily ...\`) ` +
      "or npm scripts, which use the Node 24 that `npm install` puts in node_modules/.bin.\n",
  );
  process.exit(1);
}
// Node's compile cache (in the temp folder, keyed by file contents) keeps each file's stripped and
// compiled code between runs: `lily --help` takes ~0.1 s with it, ~0.2 s without.
const { enableCompileCache } = await import("node:module");
enableCompileCache?.();

// A role (`lily solver`, ...) runs with the V8 flags and malloc settings its memory targets were
// measured with, however it was started: without them it is started again with them, in this same
// process (roleProcess.js). Other commands are left as they are.
const { commandOf, roleReexec } = await import("./roleProcess.js");
const again =
  process.execve && roleReexec({ execArgv: process.execArgv, argv: process.argv.slice(1), env: process.env, ipc: typeof process.send === "function" });
if (again) process.execve(process.execPath, [process.execPath, ...again.args], again.env);

// `lily --help` is printed from the text the bundle's build rendered, without loading it (staticHelp.js).
const { asksTopLevelHelp, printStaticHelp } = await import("./staticHelp.js");
if (!(asksTopLevelHelp(process.argv.slice(2)) && printStaticHelp())) {
  // The bundle `npm run build:cli` writes starts `lily run` ~200 ms sooner than the sources; it runs
  // only while it is current (currentBundle.js). `lily run` has one of its own (src/runMain.ts).
  const { currentBundle } = await import("./currentBundle.js");
  const run = commandOf(process.argv.slice(2)) === "run";
  await import(currentBundle(undefined, run ? "run" : "main") ?? (run ? "../src/runMain.ts" : "../src/main.ts"));
}
