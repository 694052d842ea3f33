// A mistyped command line gets one line naming what was wrong and where to look, not the whole
// help text; --help itself still prints everything. Runs the real `lily` as a process; none of
// these reach a network.
import { test } from "node:test";
import assert from "node:assert/strict";
import { lily as run, tempHome } from "./lilyProcess.ts";

const lily = (...args: string[]) => run(tempHome(), ...args);

test("an unknown option is one line naming it and the command, a hint, and exit code 2", () => {
  const r = lily("run", "cowsay@1.0.0", "--frobnicate");
  assert.equal(r.code, 2);
  assert.deepEqual(r.lines, ["error: unknown option '--frobnicate' for 'lily run' [INVALID_INPUT]", "hint: see `lily run --help`"]);
  assert.equal(r.stdout, "");
});

test("a mistyped option is answered with the closest one", () => {
  const r = lily("run", "cowsay@1.0.0", "--max-prise", "2");
  assert.equal(r.code, 2);
  assert.deepEqual(r.lines, ["error: unknown option '--max-prise' for 'lily run' [INVALID_INPUT]", "hint: did you mean --max-price? see `lily run --help`"]);
});

test("an unknown option of a nested command names the whole command", () => {
  const r = lily("jobs", "show", "0x12", "--bogus");
  assert.equal(r.code, 2);
  assert.deepEqual(r.lines, ["error: unknown option '--bogus' for 'lily jobs show' [INVALID_INPUT]", "hint: see `lily jobs show --help`"]);
});

test("a missing required argument is one line naming it, and exit code 2", () => {
  const r = lily("run");
  assert.equal(r.code, 2);
  assert.deepEqual(r.lines, ["error: missing required argument 'module' for 'lily run' [INVALID_INPUT]", "hint: see `lily run --help`"]);
});

test("an unknown command is one line naming it, and exit code 2", () => {
  const r = lily("frobnicate");
  assert.equal(r.code, 2);
  assert.deepEqual(r.lines, ["error: unknown command 'frobnicate' [INVALID_INPUT]", "hint: see `lily --help`"]);
});

test("a mistyped command is answered with the closest one", () => {
  const r = lily("rnu");
  assert.equal(r.code, 2);
  assert.deepEqual(r.lines, ["error: unknown command 'rnu' [INVALID_INPUT]", "hint: did you mean run? see `lily --help`"]);
});

test("with --json a usage error is also a JSON document on stdout", () => {
  const r = lily("jobs", "--json", "--frobnicate");
  assert.equal(r.code, 2);
  assert.deepEqual(JSON.parse(r.stdout).error, {
    code: "INVALID_INPUT",
    field: "--frobnicate",
    message: "unknown option '--frobnicate' for 'lily jobs'",
    hint: "see `lily jobs --help`",
    details: {},
  });
});

test("--help still prints the whole help on stdout and exits 0", () => {
  const r = lily("run", "--help");
  assert.equal(r.code, 0);
  assert.equal(r.stderr, "");
  assert.match(r.stdout, /^Usage: lily run \[options\] <module>/m);
  assert.match(r.stdout, /--max-price <lily>/);
});

test("--version prints the version and exits 0", () => {
  const r = lily("--version");
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^\d+\.\d+\.\d+\n$/);
});
