// Starts each role as its own process (the same `lily` CLI, forked with an IPC channel), sends
// its logs to a file, waits for its ready message, and stops them all in reverse order.
import { fork, type ChildProcess } from "node:child_process";
import { openSync, readFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { LilyError } from "@lily/protocol";
import type { ReadyMessage } from "../ready.ts";
import { ROLE_ENV, ROLE_EXEC_ARGV } from "../../bin/roleProcess.js";

const CLI_ENTRY = fileURLToPath(new URL("../../bin/lily.js", import.meta.url));

// The flags and malloc settings a role runs with live with the shim that applies them to a role
// started by hand (bin/roleProcess.js); the supervisor forks with them, so no role it starts re-executes.
export { ROLE_ENV, ROLE_EXEC_ARGV };

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
