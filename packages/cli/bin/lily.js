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

// The bundle `npm run build:cli` writes (scripts/bundle.ts) starts `lily run` ~200 ms sooner than
// the sources. It runs only while every source it was built from has the modification time it
// was built with; after an edit the sources run, so a stale build never shadows a change.
// LILY_FROM_SOURCE=1 runs the sources regardless.
const { readFileSync, statSync } = await import("node:fs");
function bundleIsCurrent(dist) {
  if (process.env.LILY_FROM_SOURCE === "1") return false;
  let inputs;
  try {
    inputs = JSON.parse(readFileSync(new URL("inputs.json", dist), "utf8"));
  } catch {
    return false; // not built
  }
  for (const [path, mtimeMs] of Object.entries(inputs)) {
    const stat = statSync(new URL(path, dist), { throwIfNoEntry: false });
    if (stat?.mtimeMs !== mtimeMs) return false;
  }
  return true;
}
const dist = new URL("../dist/", import.meta.url);
await import(bundleIsCurrent(dist) ? new URL("main.js", dist).href : "../src/main.ts");
