// A container module's folder is checked before anything is built, and its recipe hash covers what
// decides the image (not the manifest, which is derived again on every build).
import assert from "node:assert/strict";
import { chmodSync, cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { isLilyError } from "@lily/protocol";
import { CONTAINERS_DIR, containerNames, readRecipe } from "../../modules/scripts/images/recipe.ts";
import { tempDir } from "../support/tempDir.ts";

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A copy of the chess module's folder, changed by `edit`. */
function chessCopy(edit: (dir: string) => void = () => {}): string {
  const containers = tempDir("lily-recipe-");
  dirs.push(containers);
  cpSync(join(CONTAINERS_DIR, "chess"), join(containers, "chess"), { recursive: true });
  edit(join(containers, "chess"));
  return containers;
}

function editManifest(dir: string, change: (m: Record<string, unknown>) => void): void {
  const path = join(dir, "manifest.json");
  const m = JSON.parse(readFileSync(path, "utf8"));
  change(m);
  writeFileSync(path, JSON.stringify(m));
}

test("every container module in the repository reads as a recipe", () => {
  const names = containerNames();
  assert.deepEqual(names, ["chess", "faces", "ocr", "speech-to-text"]);
  for (const name of names) assert.equal(readRecipe(name).ref, `${name}@1.0.0`);
});

test("the recipe hash follows the entry program and the packages, not the manifest", () => {
  const same = readRecipe("chess", chessCopy()).hash;
  assert.equal(readRecipe("chess", chessCopy()).hash, same);
  assert.equal(
    readRecipe(
      "chess",
      chessCopy((d) => editManifest(d, (m) => (m.description = "changed"))),
    ).hash,
    same,
  );
  assert.notEqual(
    readRecipe(
      "chess",
      chessCopy((d) => writeFileSync(join(d, "run"), "#!/bin/sh\necho changed\n")),
    ).hash,
    same,
  );
  assert.notEqual(
    readRecipe(
      "chess",
      chessCopy((d) => writeFileSync(join(d, "packages"), "stockfish\njq\nbash\n")),
    ).hash,
    same,
  );
});

const refusals: [string, (dir: string) => void, string][] = [
  ["a wasm executor", (d) => editManifest(d, (m) => (m.executor = { kind: "wasm" })), "modules/containers/chess/manifest.json.executor.kind"],
  [
    "an image the build should fill",
    (d) => editManifest(d, (m) => ((m.executor as Record<string, unknown>).image = `sha256:${"a".repeat(64)}`)),
    "modules/containers/chess/manifest.json.executor",
  ],
  ["an entry program that is not executable", (d) => chmodSync(join(d, "run"), 0o644), "modules/containers/chess/run"],
  ["a package name Debian cannot have", (d) => writeFileSync(join(d, "packages"), "stockfish; rm -rf /\n"), "modules/containers/chess/packages"],
  ["a prune glob outside the image", (d) => writeFileSync(join(d, "prune"), "../../etc\n"), "modules/containers/chess/prune"],
  ["no probe", (d) => rmSync(join(d, "probe.sh")), "modules/containers/chess/probe.sh"],
];
for (const [what, edit, field] of refusals) {
  test(`a recipe with ${what} is refused, naming ${field}`, () => {
    assert.throws(
      () => readRecipe("chess", chessCopy(edit)),
      (e) => isLilyError(e, "INVALID_INPUT") && e.field === field,
    );
  });
}
