// A role started by hand (`lily solver`, not through the devnet's supervisor) runs with the same V8
// flags and malloc settings as a supervised one: bin/lily.js re-executes it with them, in the same
// process. The memory targets (a solver holding 100k offers under 300 MiB, idle roles under 80 MiB)
// were measured with them, so a role without them would not be the process that met them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { ROLE_ENV, ROLE_EXEC_ARGV, commandOf, roleReexec } from "../bin/roleProcess.js";
import { LILY } from "./lilyProcess.ts";

const start = (args: string[], over: { execArgv?: readonly string[]; env?: Readonly<Record<string, string>>; ipc?: boolean } = {}) =>
  roleReexec({ execArgv: over.execArgv ?? [], argv: ["/x/bin/lily.js", ...args], env: over.env ?? {}, ipc: over.ipc ?? false });

test("the command is the first argument that is neither an option nor --home's value", () => {
  assert.equal(commandOf(["--home", "/h", "solver", "--port", "0"]), "solver");
  assert.equal(commandOf(["--home=/h", "mediator"]), "mediator");
  assert.equal(commandOf(["--help"]), undefined);
});

for (const [what, args, over, reexec] of [
  ["a role started without the flags", ["solver", "--port", "0"], {}, true],
  ["a role after --home", ["--home", "/h", "gateway"], {}, true],
  ["a command that is not a role", ["run", "hello"], {}, false],
  ["a role forked with an IPC channel (the supervisor's)", ["store"], { ipc: true }, false],
  ["a role given the flags on node's command line", ["provider"], { execArgv: ["--max-semi-space-size=8"] }, false],
  ["a role given the flags in NODE_OPTIONS", ["provider"], { env: { NODE_OPTIONS: "--max_semi_space_size=8" } }, false],
] as const)
  test(`${what} is ${reexec ? "" : "not "}started again`, () => {
    assert.equal(start([...args], over) !== undefined, reexec);
  });

test("the role is started again with the flags first, node's own flags and its arguments kept, and the environment's malloc settings winning", () => {
  const r = start(["solver", "--port", "0"], { execArgv: ["--enable-source-maps"], env: { MALLOC_ARENA_MAX: "4", HOME: "/root" } })!;
  assert.deepEqual(r.args, [...ROLE_EXEC_ARGV, "--enable-source-maps", "/x/bin/lily.js", "solver", "--port", "0"]);
  assert.equal(r.env.MALLOC_ARENA_MAX, "4");
  assert.equal(r.env.HOME, "/root");
  for (const [k, v] of Object.entries(ROLE_ENV)) if (k !== "MALLOC_ARENA_MAX") assert.equal(r.env[k], v);
});

/** node's flags, the malloc settings and the pid a real `lily <args>` process ended with. */
function ranWith(args: string[]): { execArgv: string[]; env: Record<string, string | undefined>; pid: number; spawned: number } {
  const probe = `data:text/javascript,process.on("exit",()=>process.stderr.write("PROBE "+JSON.stringify({execArgv:process.execArgv,pid:process.pid,env:{${Object.keys(
    ROLE_ENV,
  )
    .map((k) => `${k}:process.env.${k}`)
    .join(",")}}})+"\\n"))`;
  const env = { ...process.env };
  for (const k of Object.keys(ROLE_ENV)) delete env[k];
  delete env.NODE_OPTIONS;
  const r = spawnSync(process.execPath, ["--import", probe, LILY, ...args], { encoding: "utf8", env });
  assert.equal(r.status, 0, r.stderr);
  const line = r.stderr.split("\n").find((l) => l.startsWith("PROBE "));
  assert.ok(line, `the probe reported: ${r.stderr}`);
  return { ...JSON.parse(line.slice("PROBE ".length)), spawned: r.pid! };
}

test("`lily solver` started by hand runs with the role flags and malloc settings, in the process that was started", {
  skip: !process.execve && "no process.execve here",
}, () => {
  const r = ranWith(["solver", "--help"]);
  for (const flag of ROLE_EXEC_ARGV) assert.ok(r.execArgv.includes(flag), `${flag} in ${r.execArgv.join(" ")}`);
  assert.deepEqual(r.env, ROLE_ENV);
  assert.equal(r.pid, r.spawned, "re-executed in place: no parent process left waiting");
});

test("`lily run` is not started again", () => {
  const r = ranWith(["run", "--help"]);
  for (const flag of ROLE_EXEC_ARGV) assert.ok(!r.execArgv.includes(flag));
});
