// The folder layout is the architecture: dependencies point inward, and roles never import each
// other (they meet over HTTP and the chain). This test reads every source file's imports and
// fails on any edge the map below does not allow.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));

/** Which @lily packages each package may import. */
const allowed: Record<string, string[]> = {
  protocol: [],
  chain: ["protocol"],
  api: ["protocol"],
  "node-kit": ["protocol"],
  executor: ["protocol", "api"],
  verification: ["protocol"],
  store: ["protocol", "api", "node-kit"],
  solver: ["protocol", "chain", "api", "node-kit", "verification"],
  provider: ["protocol", "chain", "api", "node-kit", "store", "executor"],
  mediator: ["protocol", "chain", "api", "node-kit", "store", "executor", "verification"],
  sdk: ["protocol", "chain", "api", "node-kit", "store", "verification"],
  gateway: ["protocol", "chain", "api", "node-kit", "store", "sdk", "verification"],
  // The studio runs in the browser: only browser-safe packages, and it meets the gateway over HTTP.
  studio: ["protocol", "api"],
  cli: ["protocol", "chain", "api", "node-kit", "store", "solver", "provider", "mediator", "sdk", "verification", "modules", "executor", "gateway"],
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === "node_modules" || name === "fixtures" ? [] : sources(path);
    return /\.tsx?$/.test(path) ? [path] : [];
  });
}

function lilyImports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/from\s+"@lily\/([a-z-]+)"|import\(\s*"@lily\/([a-z-]+)"\s*\)/g)].map((m) => (m[1] ?? m[2])!);
}

test("every package in packages/ is on the dependency map", () => {
  assert.deepEqual(readdirSync(join(root, "packages")).sort(), Object.keys(allowed).sort());
});

for (const [pkg, deps] of Object.entries(allowed)) {
  test(`${pkg} imports only ${deps.length ? deps.join(", ") : "no other Lily package"}`, () => {
    const dir = join(root, "packages", pkg);
    const declared = Object.keys(JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).dependencies ?? {})
      .filter((d) => d.startsWith("@lily/"))
      .map((d) => d.slice(6));
    for (const file of sources(join(dir, "src"))) {
      for (const dep of lilyImports(file)) {
        assert.ok(deps.includes(dep), `${file.slice(root.length)} imports @lily/${dep}, which ${pkg} may not depend on`);
        assert.ok(declared.includes(dep), `${file.slice(root.length)} imports @lily/${dep}, not declared in packages/${pkg}/package.json`);
      }
    }
  });
}
