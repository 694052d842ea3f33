// Running the build's tools (debootstrap, chroot, tar, du): a command either succeeds or throws a
// LilyError naming the recipe file at fault, with the tail of what the tool said.
import { spawn, type ChildProcess } from "node:child_process";
import { appendFileSync } from "node:fs";
import { LilyError } from "@lily/protocol";

export interface CommandOptions {
  /** Appends the command line and everything it prints to this file. */
  log?: string;
  /** The recipe file (or step) a failure is blamed on, e.g. `modules/containers/ocr/packages`. */
  field: string;
  env?: NodeJS.ProcessEnv;
  /** False when the child's stdout is consumed elsewhere (tar streaming into the engine). */
  captureStdout?: boolean;
}

export interface CommandResult {
  stdout: string;
  stderr: string;
}

/** Run `cmd args` to completion; throws EXECUTION_FAILED with its last lines when it exits non-zero. */
export function runCommand(cmd: string, args: string[], opts: CommandOptions): Promise<CommandResult> {
  if (opts.log) appendFileSync(opts.log, `\n$ ${cmd} ${args.join(" ")}\n`);
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env: opts.env ?? process.env });
  return collect(child, `${cmd} ${args.join(" ")}`, opts);
}

/** Wait for a spawned child, keeping what it prints; throws as `runCommand` does. */
export function collect(child: ChildProcess, what: string, opts: CommandOptions): Promise<CommandResult> {
  let stdout = "";
  let stderr = "";
  if (opts.captureStdout !== false)
    child.stdout?.on("data", (d: Buffer) => {
      stdout += d.toString("utf8");
      if (opts.log) appendFileSync(opts.log, d);
    });
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString("utf8");
    if (opts.log) appendFileSync(opts.log, d);
  });
  return new Promise((resolve, reject) => {
    child.once("error", (e) =>
      reject(new LilyError({ code: "CONFIG", field: opts.field, message: `${opts.field}: could not start ${what.split(" ")[0]}: ${e.message}`, cause: e })),
    );
    child.once("close", (code, signal) => {
      if (code === 0) return resolve({ stdout, stderr });
      const tail = `${stdout}\n${stderr}`.trim().split("\n").slice(-12).join("\n");
      reject(
        new LilyError({
          code: "EXECUTION_FAILED",
          field: opts.field,
          message: `${opts.field}: \`${what.length > 200 ? `${what.slice(0, 200)}…` : what}\` ${signal ? `was killed by ${signal}` : `exited ${code}`}`,
          details: { tail, log: opts.log },
        }),
      );
    });
  });
}

/** Bytes under `dir` (apparent sizes, hard links once), as `du -sb` counts them. */
export async function diskUsage(dir: string): Promise<number> {
  const { stdout } = await runCommand("du", ["-sb", dir], { field: dir });
  return Number(stdout.split("\t")[0]);
}
