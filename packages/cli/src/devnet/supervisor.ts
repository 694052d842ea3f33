// Starts each role as its own process (the same `lily` CLI, forked with an IPC channel), sends
// its logs to a file, waits for its ready message, and stops them all in reverse order.
import { fork, type ChildProcess } from "node:child_process";
import { openSync, readFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { LilyError } from "@lily/protocol";
import type { ReadyMessage } from "../ready.ts";

const CLI_ENTRY = fileURLToPath(new URL("../../bin/lily.js", import.meta.url));

/**
 * V8 flags for every role process. A role's heap is small and long-lived, but by default V8 lets
 * its young generation grow to 3 x 16 MiB of semi-space under a burst (a solver reloading 100k
 * offers, a provider's first jobs) and keeps it reserved afterwards. Capping it at 2 MiB measured
 * 221 MiB instead of 345 MiB for a solver holding 100k offers and 152 instead of 214 MiB for an
 * idle provider, with the reload faster, not slower.
 */
export const ROLE_EXEC_ARGV = ["--max-semi-space-size=2"];

/**
 * glibc malloc settings for every role process (values from the caller or the environment win).
 * By default glibc raises its mmap threshold each time a large block is freed (up to 32 MiB), so
 * the 1-4 MiB transient buffers of start-up (V8 compiling a bundle of a few MB, the first RPC
 * answers and SQLite reads) end up in the heap and stay resident once freed, and every thread
 * that mallocs (V8's compiler and GC workers) may get an arena of its own. Fixed thresholds of
 * 2 MiB (above the store's 1 MiB chunks, which keep coming from the heap) and two arenas measured
 * idle RSS in a devnet 14-29 MiB lower for the solver, the mediator, the gateway and the provider
 * (e.g. mediator 111 -> 89 MiB, gateway 108 -> 90 MiB), with no more start-up CPU and no slower
 * 1 MiB buffer churn (bench/idleMemory.ts; 128 KiB thresholds saved no more, 4 MiB much less).
 */
export const ROLE_ENV: Readonly<Record<string, string>> = {
  MALLOC_ARENA_MAX: "2",
  MALLOC_MMAP_THRESHOLD_: "2097152",
  MALLOC_TRIM_THRESHOLD_: "2097152",
};

export interface RoleProcess {
  name: string;
  child: ChildProcess;
  ready: ReadyMessage;
  logPath: string;
  /** The `lily` arguments it was started with. */
  args: string[];
}

function tail(path: string, lines = 15): string {
  try {
    return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

export async function startRole(
  name: string,
  args: string[],
  logPath: string,
  opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<RoleProcess> {
  mkdirSync(dirname(logPath), { recursive: true });
  const log = openSync(logPath, "a");
  const child = fork(CLI_ENTRY, args, {
    stdio: ["ignore", log, log, "ipc"],
    env: { ...ROLE_ENV, ...process.env, ...opts.env },
    execPath: process.execPath,
    execArgv: [...process.execArgv, ...ROLE_EXEC_ARGV],
  });
  const ready = await new Promise<ReadyMessage>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new LilyError({ code: "INTERNAL", message: `${name} did not become ready in time; log ${logPath}:\n${tail(logPath)}` }));
    }, opts.timeoutMs ?? 30_000);
    child.on("message", (m: ReadyMessage) => {
      if (m?.type === "ready") {
        clearTimeout(timer);
        resolve(m);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new LilyError({ code: "INTERNAL", message: `${name} exited with code ${code} before it was ready; log ${logPath}:\n${tail(logPath)}` }));
    });
  });
  return { name, child, ready, logPath, args };
}

export async function stopRole(p: RoleProcess, timeoutMs = 5000): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => p.child.once("exit", () => resolve()));
  p.child.kill("SIGTERM");
  const timer = setTimeout(() => p.child.kill("SIGKILL"), timeoutMs);
  await exited;
  clearTimeout(timer);
}
