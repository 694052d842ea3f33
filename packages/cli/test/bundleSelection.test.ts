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
  copyFileSync(join(dirname(LILY), "roleProcess.js"), join(root, "bin/roleProcess.js"));
  copyFileSync(join(dirname(LILY), "staticHelp.js"), join(root, "bin/staticHelp.js"));
  writeFileSync(join(root, "package.json"), '{ "type": "module" }\n');
  writeFileSync(join(root, "src/main.ts"), 'process.stdout.write("sources");\n');
  writeFileSync(join(root, "src/runMain.ts"), 'process.stdout.write("run sources");\n');
  writeFileSync(join(root, "src/helper.ts"), "export const x = 1;\n");
  writeFileSync(join(root, "dist/main.js"), 'process.stdout.write("bundle");\n');
  writeFileSync(join(root, "dist/run.js"), 'process.stdout.write("run bundle");\n');
  const inputs = Object.fromEntries(["main.ts", "runMain.ts", "helper.ts"].map((f) => [`../src/${f}`, statSync(join(root, "src", f)).mtimeMs]));
  writeFileSync(join(root, "dist/inputs.json"), JSON.stringify(inputs));
  // The run bundle's sources: its entry alone.
  writeFileSync(join(root, "dist/run.inputs.json"), JSON.stringify({ "../src/runMain.ts": statSync(join(root, "src/runMain.ts")).mtimeMs }));
  const run = (env: Record<string, string> = {}, args: string[] = []) => {
    const r = spawnSync(process.execPath, [join(root, "bin/lily.js"), ...args], { encoding: "utf8", env: { ...process.env, LILY_FROM_SOURCE: "", ...env } });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };
  return { root, run };
}

test("lily runs its bundle while every source it was built from is unchanged", () => {
  const { run } = miniature();
  assert.equal(run(), "bundle");
});

test("`lily run` starts the run bundle, or the run entry of the sources, and every other command the main ones", () => {
  const { root, run } = miniature();
  for (const args of [
    ["run", "x"],
    ["--home", "/h", "run"],
    ["--home=/h", "run", "--json"],
  ])
    assert.equal(run({}, args), "run bundle", args.join(" "));
  for (const args of [["jobs"], ["--home", "run", "jobs"], ["help", "run"], []]) assert.equal(run({}, args), "bundle", args.join(" "));
  assert.equal(run({ LILY_FROM_SOURCE: "1" }, ["run", "x"]), "run sources");
  // A source the run bundle does not hold: only the main bundle is stale.
  const later = new Date(Date.now() + 5_000);
  utimesSync(join(root, "src/helper.ts"), later, later);
  assert.equal(run({}, ["run", "x"]), "run bundle");
  assert.equal(run({}, ["jobs"]), "sources");
  // One it holds.
  utimesSync(join(root, "src/runMain.ts"), later, later);
  assert.equal(run({}, ["run", "x"]), "run sources");
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

/** The build's top-level help in the miniature: rendered from src/main.ts alone. */
function writeHelp(root: string, text: string): void {
  const inputs = { "../src/main.ts": statSync(join(root, "src/main.ts")).mtimeMs };
  writeFileSync(join(root, "dist/help.json"), JSON.stringify({ text, inputs }));
}

test("the top-level help is the build's text, printed without loading the bundle", () => {
  const { root, run } = miniature();
  writeHelp(root, "the build's help\n");
  for (const args of [["--help"], ["-h"], ["help"], ["--home", "/h", "--help"], ["--home=/h", "-h"], ["--help", "--home", "/h"]])
    assert.equal(run({}, args), "the build's help\n", args.join(" "));
  // Anything more is commander's to answer, in the bundle.
  assert.equal(run({}, ["run", "--help"]), "run bundle");
  for (const args of [
    ["help", "run"],
    ["--help", "--version"],
    ["--home", "--help"],
  ])
    assert.equal(run({}, args), "bundle", args.join(" "));
});

test("the top-level help is checked against the sources it was rendered from, and only those", () => {
  const { root, run } = miniature();
  assert.equal(run({}, ["--help"]), "bundle", "a build without the text: commander prints it");
  writeHelp(root, "the build's help\n");
  assert.equal(run({ LILY_FROM_SOURCE: "1" }, ["--help"]), "sources");
  const later = new Date(Date.now() + 5_000);
  // A source the help was not rendered from: the bundle is stale, its help is not.
  utimesSync(join(root, "src/helper.ts"), later, later);
  assert.equal(run({}, ["jobs"]), "sources");
  assert.equal(run({}, ["--help"]), "the build's help\n");
  // One it was rendered from.
  utimesSync(join(root, "src/main.ts"), later, later);
  assert.equal(run({}, ["--help"]), "sources");
});

test("a reader that stops early does not make the top-level help fail", () => {
  const { root } = miniature();
  writeHelp(root, "line\n".repeat(50_000)); // more than a pipe holds
  const r = spawnSync("sh", ["-c", `"${process.execPath}" "${join(root, "bin/lily.js")}" --help | head -1`], {
    encoding: "utf8",
    env: { ...process.env, LILY_FROM_SOURCE: "" },
  });
  assert.equal(r.status, 0);
  assert.equal(r.stdout, "line\n");
  assert.equal(r.stderr, "");
});

// Stripping a .ts file makes Node load its type stripper (amaro: SWC compiled to WASM), whose memory
// stays resident: about 10 MiB in every idle role of the first devnet after an install, when the
// compile cache has no stripped copy of the shim's files yet. So the shim loads only plain JS.
for (const [code, env, stripper] of [
  ["the bundle", {}, false],
  // The probe's control: the sources are TypeScript, so there it must see the stripper.
  ["the sources", { LILY_FROM_SOURCE: "1" }, true],
] as const)
  test(`a role started by hand reaches ${code} ${stripper ? "through" : "without"} Node's TypeScript stripper, with no compile cache`, {
    skip: !process.execve && "no process.execve here",
  }, () => {
    const { root, run } = miniature();
    const probe = 'process.stdout.write(JSON.stringify(process.moduleLoadList.filter((m) => m.includes("/amaro/"))));\n';
    // Only the file that runs is rewritten: a source newer than the build would make it stale.
    writeFileSync(join(root, stripper ? "src/main.ts" : "dist/main.js"), probe);
    // `solver`: the shim re-executes a role with its flags, so both runs of the shim are covered.
    const loaded = JSON.parse(run({ ...env, NODE_DISABLE_COMPILE_CACHE: "1" }, ["solver"])) as string[];
    assert.equal(loaded.length > 0, stripper, `stripper modules loaded: ${JSON.stringify(loaded)}`);
  });
