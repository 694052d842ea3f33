// Helpers for end-to-end tests: start `lily devnet` as a real process in a temporary LILY_HOME,
// run other `lily` commands against it, read its network.json and devnet.json.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Address } from "viem";
import type { NetworkEndpoints } from "@lily/protocol";
import { tempDir } from "../support/tempDir.ts";

export const LILY = fileURLToPath(new URL("../../packages/cli/bin/lily.js", import.meta.url));

export interface Devnet {
  home: string;
  proc: ChildProcess;
  output: () => string;
  /** network.json: the network's endpoints and the modules the devnet published. */
  network: NetworkEndpoints & { modules: Record<string, string> };
  state: { roles: Record<string, { pid: number; url?: string; address?: Address; log: string; args: string[] }>; jobCreator: Address };
  stop(): Promise<void>;
}

export function tempHome(): string {
  return tempDir("lily-e2e-");
}

export async function startDevnet(args: string[] = [], home = tempHome()): Promise<Devnet> {
  // Container modules only where a test asks for them (--docker <host>): the others need no engine.
  const docker = args.includes("--docker") ? [] : ["--docker", "off"];
  const proc = spawn(
    process.execPath,
    [LILY, "--home", home, "devnet", "--chain-port", "0", "--solver-port", "0", "--store-port", "0", "--gateway-port", "0", ...docker, ...args],
    {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, LILY_LOG_LEVEL: "warn" },
    },
  );
  let out = "";
  proc.stdout!.on("data", (d) => (out += d));
  proc.stderr!.on("data", (d) => (out += d));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`devnet not up after 90 s:\n${out}`)), 90_000);
    proc.stdout!.on("data", () => {
      if (out.includes("Press Ctrl-C to stop.")) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`devnet exited with ${code}:\n${out}`));
    });
  });
  const read = (f: string) => JSON.parse(readFileSync(join(home, f), "utf8"));
  return {
    home,
    proc,
    output: () => out,
    network: read("network.json"),
    state: read("devnet.json"),
    stop: async () => {
      if (proc.exitCode !== null) return;
      const exited = new Promise((r) => proc.once("exit", r));
      proc.kill("SIGTERM");
      await exited;
    },
  };
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run a `lily` command to completion. `onStderr` sees progress lines as they come. */
export function lily(
  home: string,
  args: string[],
  opts: { onStderr?: (chunk: string, proc: ChildProcess) => void; cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [LILY, "--home", home, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      cwd: opts.cwd ?? home,
      env: { ...process.env, LILY_LOG_LEVEL: "warn", ...opts.env },
    });
    let stdout = "";
    let stderr = "";
    proc.stdout.on("data", (d) => (stdout += d));
    proc.stderr.on("data", (d) => {
      stderr += d;
      opts.onStderr?.(String(d), proc);
    });
    proc.once("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Poll `f` every 250 ms until it gives a value; throw naming `what` after `timeoutMs`. */
export async function until<T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
