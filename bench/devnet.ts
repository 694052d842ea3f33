// Start `lily devnet` as a real process in a temporary LILY_HOME (every port 0), time it from
// spawn to its "Lily devnet is up" line, and stop it with SIGTERM. Also runs `lily` commands.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Address } from "viem";
import type { NetworkEndpoints } from "@lily/protocol";

export const LILY = fileURLToPath(new URL("../packages/cli/bin/lily.js", import.meta.url));

export interface NetworkJson extends NetworkEndpoints {
  modules: Record<string, string>;
}

export interface DevnetJson {
  pid: number;
  chain: { rpcUrl: string; embedded: boolean; pid?: number };
  roles: Record<string, { pid: number; url?: string; address?: Address; log: string }>;
  jobCreator: Address;
}

export interface Devnet {
  home: string;
  proc: ChildProcess;
  /** Spawn to the "Lily devnet is up" line, as seen by this process. */
  upMs: number;
  /** What the devnet itself reports ("ready in X s"), from its own start to the line. */
  reportedMs: number;
  /** Its progress lines ("starting the store", ...) with ms since spawn, then the "up" line. */
  phases: { line: string; ms: number }[];
  network: NetworkJson;
  state: DevnetJson;
  output(): string;
  stop(): Promise<void>;
}

// Logs at info so the providers' logs carry the per-deal timeline the breakdown reads.
const env = () => ({ ...process.env, LILY_LOG_LEVEL: process.env.LILY_LOG_LEVEL ?? "info" });

const live = new Set<Devnet>();

/** Stop every devnet this process started and has not stopped yet (for failures and Ctrl-C). */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((d) => d.stop()));
}

/** `args`: extra `lily devnet` flags, e.g. ["--providers", "4"]. */
export async function startDevnet(args: string[] = []): Promise<Devnet> {
  const home = mkdtempSync(join(tmpdir(), "lily-bench-"));
  const t0 = performance.now();
  const proc = spawn(
    process.execPath,
    [LILY, "--home", home, "devnet", "--chain-port", "0", "--solver-port", "0", "--store-port", "0", "--gateway-port", "0", ...args],
    {
      stdio: ["ignore", "pipe", "pipe"],
      env: env(),
    },
  );
  let out = "";
  let stopped: Promise<void> | undefined;
  const exited = new Promise<void>((r) => proc.once("exit", () => r()));
  const devnet: Devnet = {
    home,
    proc,
    upMs: 0,
    reportedMs: 0,
    phases: [],
    network: undefined as unknown as NetworkJson,
    state: undefined as unknown as DevnetJson,
    output: () => out,
    stop: () => (stopped ??= stop()),
  };
  async function stop(): Promise<void> {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill("SIGTERM");
      const timer = setTimeout(() => {
        // It did not stop in time: kill it and the processes it started, each by its pid.
        proc.kill("SIGKILL");
        for (const pid of rolePids(devnet.state)) {
          try {
            process.kill(pid, "SIGKILL");
          } catch {
            // already gone
          }
        }
      }, 20_000);
      await exited;
      clearTimeout(timer);
    }
    live.delete(devnet);
    rmSync(home, { recursive: true, force: true });
  }
  live.add(devnet);

  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`devnet not up after 90 s:\n${out}`)), 90_000);
      let partial = "";
      const lines = (d: string) => {
        // Progress lines come on stderr, the "up" line on stdout; time each as it arrives.
        const now = performance.now() - t0;
        const text = partial + d;
        const parts = text.split("\n");
        partial = parts.pop()!;
        for (const l of parts) if (l.startsWith("› ")) devnet.phases.push({ line: l.slice(2), ms: now });
      };
      const onData = (d: string) => {
        out += d;
        if (devnet.upMs) return;
        const m = /Lily devnet is up \(ready in ([\d.]+) s\)/.exec(out);
        if (m) {
          devnet.upMs = performance.now() - t0;
          devnet.reportedMs = Number(m[1]) * 1000;
          devnet.phases.push({ line: "Lily devnet is up", ms: devnet.upMs });
          clearTimeout(timer);
          resolve();
        }
      };
      proc.stdout!.setEncoding("utf8").on("data", onData);
      proc.stderr!.setEncoding("utf8").on("data", (d: string) => {
        out += d;
        lines(d);
      });
      proc.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`devnet exited with ${code} before it was up:\n${out}`));
      });
    });
    const read = (f: string) => JSON.parse(readFileSync(join(home, f), "utf8"));
    devnet.network = read("network.json");
    devnet.state = read("devnet.json");
    return devnet;
  } catch (e) {
    await devnet.stop();
    throw e;
  }
}

/** Every process the devnet started: anvil and each role. */
export function rolePids(state: DevnetJson | undefined): number[] {
  if (!state) return [];
  return [state.chain.pid, ...Object.values(state.roles).map((r) => r.pid)].filter((p): p is number => typeof p === "number");
}

export interface CliRun {
  ms: number;
  /** Spawn to the first progress line ("inputs stored"): node start-up, module loading, key. */
  firstProgressMs: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run one `lily` command against the devnet and time it from spawn to exit. */
export function runLily(home: string, args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let firstProgressMs = Number.NaN;
    const proc = spawn(process.execPath, [LILY, "--home", home, ...args], { stdio: ["ignore", "pipe", "pipe"], cwd: home, env: env() });
    let stdout = "";
    let stderr = "";
    proc.stdout.on("data", (d) => (stdout += d));
    proc.stderr.on("data", (d) => {
      if (Number.isNaN(firstProgressMs)) firstProgressMs = performance.now() - t0;
      stderr += d;
    });
    proc.once("exit", (code) => resolve({ ms: performance.now() - t0, firstProgressMs, code, stdout, stderr }));
  });
}
