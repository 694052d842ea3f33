// removeAside: a finished job's directory is gone once the promise settles, and the path is free
// at once, so a new layout under the same name (a re-run, another deal's blocks) loses nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../../../test/support/tempDir.ts";
import { removeAside } from "../src/jobDirs.ts";

function jobTree(dir: string): void {
  mkdirSync(join(dir, "inputs"), { recursive: true });
  mkdirSync(join(dir, "outputs", "nested"), { recursive: true });
  writeFileSync(join(dir, "inputs", "inputs.json"), "{}");
  writeFileSync(join(dir, "outputs", "stdout"), "old run");
  writeFileSync(join(dir, "outputs", "nested", "file"), "x");
}

test("the directory and its renamed-aside copy are gone once the removal settles", async () => {
  const root = tempDir("lily-remove-");
  const dir = join(root, "job");
  jobTree(dir);
  await removeAside(dir);
  assert.deepEqual(readdirSync(root), []);
});

test("the path is free at once: a layout made there before the removal runs is kept whole", async () => {
  const root = tempDir("lily-remove-");
  const dir = join(root, "job");
  jobTree(dir);
  const removing = removeAside(dir);
  assert.equal(existsSync(dir), false, "renamed aside before removeAside returns");
  mkdirSync(join(dir, "outputs"), { recursive: true });
  writeFileSync(join(dir, "outputs", "stdout"), "new run");
  await removing;
  assert.equal(readFileSync(join(dir, "outputs", "stdout"), "utf8"), "new run");
  assert.deepEqual(readdirSync(root), ["job"], "only the new layout is left");
});

test("a directory that is not there is already removed; many at once all go", async () => {
  const root = tempDir("lily-remove-");
  await removeAside(join(root, "never-made"));
  const dirs = Array.from({ length: 50 }, (_, i) => join(root, `job-${i}`));
  for (const d of dirs) jobTree(d);
  await Promise.all(dirs.map((d) => removeAside(d)));
  assert.deepEqual(readdirSync(root), []);
});
