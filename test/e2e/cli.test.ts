// The CLI as a new user meets it: help on every command, a clear word when no network is up, one
// line for a mistyped command, and a job nothing matched remembered as such.
import { test } from "node:test";
import assert from "node:assert/strict";
import { lily, startDevnet, tempHome } from "./lilyProcess.ts";

const commands = [
  "devnet",
  "run",
  "challenge",
  "jobs",
  "balance",
  "deposit",
  "withdraw",
  "modules",
  "module",
  "module init",
  "module build",
  "module publish",
  "module list",
  "module show",
  "provider status",
  "store",
  "solver",
  "provider",
  "mediator",
  "false-challenger",
];

test("lily --help lists every command", async () => {
  const r = await lily(tempHome(), ["--help"]);
  assert.equal(r.code, 0);
  for (const c of commands.filter((c) => !c.includes(" "))) assert.match(r.stdout, new RegExp(`^  ${c}\\b`, "m"), `${c} missing from --help`);
});

for (const c of commands) {
  test(`lily ${c} --help explains the command and its options`, async () => {
    const r = await lily(tempHome(), [...c.split(" "), "--help"]);
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

test("an unknown command is refused in one line with exit code 2, without the whole help", async () => {
  const r = await lily(tempHome(), ["frobnicate"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^error: unknown command 'frobnicate' \[INVALID_INPUT\]$/m);
  assert.doesNotMatch(r.stderr, /Usage:/);
});

test("a job no provider matches exits with 6 and `lily jobs` lists it as no match, with the reason", async () => {
  const devnet = await startDevnet();
  try {
    // The devnet's providers ask 1 LILY and more; nobody takes the job for 0.1.
    const run = await lily(devnet.home, ["run", "cowsay@1.0.0", "-i", "message=hi", "--max-price", "0.1", "--match-timeout", "2s"]);
    assert.equal(run.code, 6, run.stderr);
    assert.match(run.stderr, /^error: no provider matched the job .*\[NO_MATCH\]$/m);
    const jobs = await lily(devnet.home, ["jobs"]);
    assert.equal(jobs.code, 0, jobs.stderr);
    assert.match(jobs.stdout, /^0x[0-9a-f]{10} {2}no match {2,}cowsay@1\.0\.0 {2}\S+ {2}no provider matched the job \(.+\)$/m);
    const id = jobs.stdout.slice(0, 12);
    const show = await lily(devnet.home, ["jobs", "show", id]);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /^stage {6}no match: no provider matched the job \(.+\)$/m);
  } finally {
    await devnet.stop();
  }
});
