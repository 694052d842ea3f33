// The devnet supervisor starts each role with the V8 flags and glibc malloc settings that keep an
// idle role small (issue 10), and an operator's own malloc settings still win. Read from the
// running role's /proc entries (Linux only), on a real `lily store` started by startRole.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROLE_ENV, ROLE_EXEC_ARGV, startRole, stopRole } from "../src/devnet/supervisor.ts";
import { tempHome } from "./lilyProcess.ts";

const linux = process.platform === "linux";

/** The environment and command line a live process was started with. */
function procStart(pid: number): { env: Map<string, string>; argv: string[] } {
  const entries = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").filter(Boolean);
  return {
    env: new Map(entries.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)])),
    argv: readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean),
  };
}

async function withStore(env: NodeJS.ProcessEnv, check: (pid: number) => void): Promise<void> {
  const home = tempHome();
  const role = await startRole("store", ["--home", home, "store", "--port", "0"], join(home, "logs", "store.log"), { env });
  try {
    assert.ok(role.ready.url, "the store announced its url");
    check(role.child.pid!);
  } finally {
    await stopRole(role);
  }
}

test("a role runs with the supervisor's V8 flags and malloc settings", { skip: !linux && "reads /proc" }, async () => {
  assert.ok(Object.keys(ROLE_ENV).length > 0);
  await withStore({}, (pid) => {
    const { env, argv } = procStart(pid);
    for (const flag of ROLE_EXEC_ARGV) assert.ok(argv.includes(flag), `${flag} is on the role's command line`);
    for (const [k, v] of Object.entries(ROLE_ENV)) {
      // The test's own environment may set one; then that value is the one to see.
      assert.equal(env.get(k), process.env[k] ?? v, `${k} in the role's environment`);
    }
  });
});

test("malloc settings given by the caller or the environment win over the supervisor's", { skip: !linux && "reads /proc" }, async () => {
  await withStore({ MALLOC_ARENA_MAX: "4" }, (pid) => {
    assert.equal(procStart(pid).env.get("MALLOC_ARENA_MAX"), "4");
  });
});
