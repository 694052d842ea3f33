// Run the real `lily` command as a process in a temporary home, to completion.
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { tempDir } from "../../../test/support/tempDir.ts";

export const LILY = fileURLToPath(new URL("../bin/lily.js", import.meta.url));

export const tempHome = () => tempDir("lily-cli-");

export function lily(home: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [LILY, "--home", home, ...args], { encoding: "utf8", env: { ...process.env, LILY_LOG_LEVEL: "warn" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, lines: r.stderr.split("\n").filter(Boolean) };
}

/**
 * Run `lily` as a process without blocking this one, for tests that serve the network it talks
 * to from this process (a solver, a store): spawnSync would freeze them while lily waits on them.
 */
export function lilyAsync(home: string, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [LILY, "--home", home, ...args], { env: { ...process.env, LILY_LOG_LEVEL: "warn" } });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Every module URL `lily <args>` resolves (node: built-ins included), through a loader hook that
 * writes them to stderr: from the sources, or from the bundle when it is current. `status` is the
 * exit code it must end with (bare `lily` prints its help as an error).
 */
export function modulesLoadedBy(args: string[], from: "sources" | "bundle", status = 0): string[] {
  const res = spawnSync(
    process.execPath,
    [
      "--import",
      "data:text/javascript,import{registerHooks}from'node:module';registerHooks({resolve(s,c,n){const r=n(s,c);if(process.env.LILY_TRACE)process.stderr.write('loaded '+r.url+'\\n');return r}})",
      LILY,
      ...args,
    ],
    { encoding: "utf8", env: { ...process.env, LILY_TRACE: "1", LILY_FROM_SOURCE: from === "sources" ? "1" : "" } },
  );
  if (res.status !== status) throw new Error(`lily ${args.join(" ")} exited ${res.status}: ${res.stderr}`);
  return res.stderr
    .split("\n")
    .filter((l) => l.startsWith("loaded "))
    .map((l) => l.slice("loaded ".length));
}
