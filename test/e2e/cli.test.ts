// The CLI as a new user meets it: help on every command, and a clear word when no network is up.
import { test } from "node:test";
import assert from "node:assert/strict";
import { lily, tempHome } from "./lilyProcess.ts";

const commands = ["devnet", "run", "challenge", "jobs", "balance", "deposit", "withdraw", "modules", "store", "solver", "provider", "mediator", "false-challenger"];

test("lily --help lists every command", async () => {
  const r = await lily(tempHome(), ["--help"]);
  assert.equal(r.code, 0);
  for (const c of commands) assert.match(r.stdout, new RegExp(`^  ${c}\\b`, "m"), `${c} missing from --help`);
});

for (const c of commands) {
  test(`lily ${c} --help explains the command and its options`, async () => {
    const r = await lily(tempHome(), [c, "--help"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^Usage: lily ${c}`, "m"));
    assert.match(r.stdout, /Options:/);
  });
}

test("running a job with no network up says how to start one", async () => {
  const r = await lily(tempHome(), ["run", "cowsay@1.0.0", "-i", "message=hi"]);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /^error: no network configured/m);
  assert.match(r.stderr, /^hint: start one with `npx lily devnet`/m);
});

test("an unknown command is refused with a non-zero exit", async () => {
  const r = await lily(tempHome(), ["frobnicate"]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /unknown command/);
});
