// Which code `lily` runs: bin/lily.js starts the bundle (packages/cli/dist) only while every
// source it was built from is unchanged, so an edit is never shadowed by a stale build. Checked on
// a copy of bin/lily.js beside a miniature dist/ and src/, so the real build is left alone.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, statSync, utimesSync, writeFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { tempDir } from "../../../test/support/tempDir.ts";
import { LILY } from "./lilyProcess.ts";

/** A package with bin/lily.js, a source tree printing "sources" and a bundle printing "bundle". */
function miniature() {
  const root = tempDir("lily-bundle-");
  for (const dir of ["bin", "src", "dist"]) mkdirSync(join(root, dir));
  copyFileSync(LILY, join(root, "bin/lily.js"));
  copyFileSync(join(dirname(LILY), "currentBundle.js"), join(root, "bin/currentBundle.js"));
  copyFileSync(join(dirname(LILY), "roleProcess.ts"), join(root, "bin/roleProcess.ts"));
  writeFileSync(join(root, "package.json"), '{ "type": "module" }\n');
  writeFileSync(join(root, "src/main.ts"), 'process.stdout.write("sources");\n');
  writeFileSync(join(root, "src/helper.ts"), "export const x = 1;\n");
  writeFileSync(join(root, "dist/main.js"), 'process.stdout.write("bundle");\n');
  const inputs = Object.fromEntries(["main.ts", "helper.ts"].map((f) => [`../src/${f}`, statSync(join(root, "src", f)).mtimeMs]));
  writeFileSync(join(root, "dist/inputs.json"), JSON.stringify(inputs));
  const run = (env: Record<string, string> = {}) => {
    const r = spawnSync(process.execPath, [join(root, "bin/lily.js")], { encoding: "utf8", env: { ...process.env, LILY_FROM_SOURCE: "", ...env } });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };
  return { root, run };
}

test("lily runs its bundle while every source it was built from is unchanged", () => {
  const { run } = miniature();
  assert.equal(run(), "bundle");
});

test("a source edited after the build makes lily run the sources", () => {
  const { root, run } = miniature();
  const later = new Date(Date.now() + 5_000);
  utimesSync(join(root, "src/helper.ts"), later, later);
  assert.equal(run(), "sources");
});

test("a source removed after the build makes lily run the sources", () => {
  const { root, run } = miniature();
  rmSync(join(root, "src/helper.ts"));
  assert.equal(run(), "sources");
});

test("without a build, or with LILY_FROM_SOURCE=1, lily runs the sources", () => {
  const { root, run } = miniature();
  assert.equal(run({ LILY_FROM_SOURCE: "1" }), "sources");
  rmSync(join(root, "dist/inputs.json"));
  assert.equal(run(), "sources");
});
