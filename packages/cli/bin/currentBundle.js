// Which bundle of the CLI may run: packages/cli/dist (written by `npm run build:cli`,
// scripts/bundle.ts) only while every source it was built from still has the modification time
// it was built with, so a stale build never shadows an edit. LILY_FROM_SOURCE=1 says never.
// Plain JS: bin/lily.js reads it before any TypeScript is loaded.
import { fileURLToPath } from "node:url";

// node:fs as the CommonJS object, not an ES import: the ES facade of node:fs reads every export,
// among them the lazy ReadStream getter that loads Node's whole streams stack (~7 ms of every
// command, `lily --help` included, in a CPU profile).
const { readFileSync, statSync } = process.getBuiltinModule("node:fs");

const DIST = new URL("../dist/", import.meta.url);

/**
 * The entry URL of bundle `name` when it is current, otherwise undefined (run the sources): `main`
 * (every command; its sources are every source built) or `run` (`lily run` alone, src/runMain.ts;
 * only its own sources are checked, about a quarter).
 */
export function currentBundle(dist = DIST, name = "main") {
  if (process.env.LILY_FROM_SOURCE === "1") return undefined;
  let inputs;
  try {
    inputs = JSON.parse(readFileSync(new URL(name === "main" ? "inputs.json" : `${name}.inputs.json`, dist), "utf8"));
  } catch {
    return undefined; // not built
  }
  return sourcesUnchanged(inputs, dist) ? new URL(`${name}.js`, dist).href : undefined;
}

/**
 * Whether every source in `times` (its path from `dist`, as the build wrote them) still has the
 * modification time the build saw.
 */
export function sourcesUnchanged(times, dist = DIST) {
  // Every command but the top-level help pays for this check (~460 sources for the main bundle,
  // ~200 for `lily run`'s): each path is joined to the folder as a string, which the kernel
  // resolves, since a URL made and converted per source cost about twice as much as the stat
  // calls themselves.
  const dir = fileURLToPath(dist);
  for (const [path, mtimeMs] of Object.entries(times)) {
    const stat = statSync(dir + path, { throwIfNoEntry: false });
    if (stat?.mtimeMs !== mtimeMs) return false;
  }
  return true;
}
