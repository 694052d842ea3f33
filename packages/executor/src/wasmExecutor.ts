// The WASM executor: runs a WASI preview1 module under node:wasi in a worker thread of its own
// (wasiWorker.ts), with /inputs and /outputs as its only filesystem. Limits are enforced, not
// requested: the module's memory is capped in the binary, so the engine refuses to grow it past
// the cap (capMemory.ts), and the wall clock is enforced by terminating the worker.
import { closeSync, openSync, statSync } from "node:fs";
import { devNull } from "node:os";
import { join, resolve } from "node:path";
import { randomUUID } from "node:crypto";
import { Worker } from "node:worker_threads";
import { INPUTS_DIR, LilyError, OUTPUTS_DIR } from "@lily/protocol";
import {
  KILLED_EXIT_CODE,
  TRAPPED_EXIT_CODE,
  type Executor,
  type ExitResult,
  type Limit,
  type TaskHandle,
  type WasmTaskSpec,
  type TaskStatus,
} from "./executor.ts";
import { capMemory } from "./capMemory.ts";
import { closeStrayDescriptors } from "./closeStrayDescriptors.ts";
import { MEMORY_DENIED_EXPORT, watchMemoryGrow } from "./watchMemoryGrow.ts";
import type { WorkerInput, WorkerOutput } from "./wasiWorker.ts";

const WORKER = new URL("./wasiWorker.ts", import.meta.url);
const MAX_TIMER_MS = 2 ** 31 - 1; // setTimeout fires at once for anything longer

export interface WasmExecutorOptions {
  /** Heap cap for the worker's own JavaScript (the WASI glue, not the module's memory), MiB. */
  workerHeapMb?: number;
}

interface Task {
  handle: TaskHandle;
  worker?: Worker;
  stopping: boolean;
  timedOut: boolean;
  exit?: ExitResult;
  done: Promise<ExitResult>;
}

function checkDirectory(path: string, field: string): string {
  if (!statSync(path, { throwIfNoEntry: false })?.isDirectory()) {
    throw new LilyError({ code: "INVALID_INPUT", field, message: `${field}: not a directory: ${path}` });
  }
  return resolve(path);
}

export function createWasmExecutor(opts: WasmExecutorOptions = {}): Executor<WasmTaskSpec> {
  const tasks = new Map<string, Task>();

  function task(handle: TaskHandle): Task {
    const t = tasks.get(handle.id);
    if (!t) throw new LilyError({ code: "NOT_FOUND", field: "handle", message: `no task ${handle.id}` });
    return t;
  }

  /** How the task ended, from what the worker reported and why it stopped. */
  function exitOf(t: Task, report: WorkerOutput | undefined, crash: Error | undefined, durationMs: number): ExitResult {
    if (report) {
      // A refused memory.grow explains a failure, not a module that coped with it and exited 0.
      const limit: Limit | undefined = report.memoryDenied && report.exitCode !== 0 ? "memory" : undefined;
      return { exitCode: report.exitCode, durationMs, ...(limit && { limit }), ...(report.error && { error: report.error }) };
    }
    if (t.timedOut) return { exitCode: KILLED_EXIT_CODE, durationMs, limit: "timeout" };
    if (t.stopping) return { exitCode: KILLED_EXIT_CODE, durationMs, error: "stopped" };
    if ((crash as { code?: string } | undefined)?.code === "ERR_WORKER_OUT_OF_MEMORY") return { exitCode: KILLED_EXIT_CODE, durationMs, limit: "memory" };
    return { exitCode: TRAPPED_EXIT_CODE, durationMs, error: crash ? crash.message : "the sandbox exited without a result" };
  }

  return {
    async start(spec: WasmTaskSpec): Promise<TaskHandle> {
      const inputsDir = checkDirectory(spec.inputsDir, "inputsDir");
      const outputsDir = checkDirectory(spec.outputsDir, "outputsDir");
      const capped = capMemory(spec.wasm, spec.memoryMb);
      const watched = watchMemoryGrow(capped);
      const module = await WebAssembly.compile((watched ?? capped) as Uint8Array<ArrayBuffer>);

      const stdio: [number, number, number] = [openSync(devNull, "r"), openSync(join(outputsDir, "stdout"), "w"), openSync(join(outputsDir, "stderr"), "w")];
      const workerData: WorkerInput = {
        module,
        preopens: { [INPUTS_DIR]: inputsDir, [OUTPUTS_DIR]: outputsDir },
        env: spec.env,
        args: spec.args,
        stdio,
        memoryFlag: watched ? MEMORY_DENIED_EXPORT : null,
      };
      const started = performance.now();
      let worker: Worker;
      try {
        worker = new Worker(WORKER, {
          workerData,
          env: {},
          stdout: true, // node's own warnings from inside the worker stay out of the provider's output
          stderr: true,
          resourceLimits: { maxOldGenerationSizeMb: opts.workerHeapMb ?? 64 },
        });
      } catch (e) {
        for (const fd of stdio) closeSync(fd);
        throw e;
      }
      worker.stdout.resume();
      worker.stderr.resume();

      let resolveExit!: (exit: ExitResult) => void;
      const t: Task = {
        handle: { id: randomUUID(), startedAt: Date.now() },
        worker,
        stopping: false,
        timedOut: false,
        done: new Promise((r) => (resolveExit = r)),
      };
      let report: WorkerOutput | undefined;
      let crash: Error | undefined;
      const timer = setTimeout(
        () => {
          t.timedOut = true;
          void worker.terminate();
        },
        Math.min(spec.timeoutMs, MAX_TIMER_MS),
      );
      worker.on("message", (m: WorkerOutput) => (report = m));
      worker.on("error", (e) => (crash = e));
      worker.once("exit", () => {
        clearTimeout(timer);
        for (const fd of stdio) closeSync(fd);
        closeStrayDescriptors([inputsDir, outputsDir]);
        t.exit = exitOf(t, report, crash, Math.round(performance.now() - started));
        t.worker = undefined;
        resolveExit(t.exit);
      });
      tasks.set(t.handle.id, t);
      return t.handle;
    },

    wait(handle: TaskHandle): Promise<ExitResult> {
      return task(handle).done;
    },

    async stop(handle: TaskHandle): Promise<ExitResult> {
      const t = task(handle);
      if (t.worker && !t.exit) {
        t.stopping = true;
        await t.worker.terminate();
      }
      return t.done;
    },

    inspect(handle: TaskHandle): TaskStatus {
      const t = task(handle);
      return { id: handle.id, state: t.exit ? "exited" : "running", startedAt: t.handle.startedAt, ...(t.exit && { exit: t.exit }) };
    },
  };
}
