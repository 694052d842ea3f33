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
import { closeStrayDescriptors } from "./closeStrayDescriptors.ts";
import { CompiledModules } from "./compiledModules.ts";
import type { WorkerInput, WorkerOutput } from "./wasiWorker.ts";

const WORKER = new URL("./wasiWorker.ts", import.meta.url);
/** A warm spare worker nobody took in this long is let go, so an idle provider holds none. */
const SPARE_IDLE_MS = 10_000;
const MAX_TIMER_MS = 2 ** 31 - 1; // setTimeout fires at once for anything longer

export interface WasmExecutorOptions {
  /** Heap cap for the worker's own JavaScript (the WASI glue, not the module's memory), MiB. */
  workerHeapMb?: number;
  /** How many compiled modules are kept for reuse (default 32). */
  compiledModules?: number;
  /**
   * Keep one worker started ahead of the next job (default true): a worker's start (~40-80 ms of
   * a trivial job's ~70-150 ms) then overlaps the previous job instead of delaying the next.
   * Each worker still runs one job only. The first job of an idle executor starts one itself.
   */
  warmSpare?: boolean;
  /** How long an untaken spare lives, ms (default 10 s): an idle executor holds no worker after it. */
  spareIdleMs?: number;
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
  // The same module under the same cap is capped, instrumented and compiled once (compiledModules.ts).
  const compiled = new CompiledModules(opts.compiledModules);
  const workerOptions = {
    env: {},
    stdout: true, // node's own warnings from inside the worker stay out of the provider's output
    stderr: true,
    resourceLimits: { maxOldGenerationSizeMb: opts.workerHeapMb ?? 64 },
  } as const;
  let spare: { worker: Worker; idle: NodeJS.Timeout; exited: boolean } | undefined;

  /** A worker started without its job (it waits for it as its first message); unref'd until taken. */
  function startSpare(): void {
    if (spare || opts.warmSpare === false) return;
    const worker = new Worker(WORKER, { ...workerOptions, workerData: null });
    worker.stdout.resume();
    worker.stderr.resume();
    worker.unref();
    const idle = setTimeout(() => {
      if (spare?.worker === worker) spare = undefined;
      void worker.terminate();
    }, opts.spareIdleMs ?? SPARE_IDLE_MS).unref();
    const s = { worker, idle, exited: false };
    // A spare that died before it was taken (out of memory, say) is simply not used.
    worker.once("exit", () => {
      s.exited = true;
      clearTimeout(idle);
      if (spare === s) spare = undefined;
    });
    worker.on("error", () => {});
    spare = s;
  }

  /** The warm spare with this job sent to it, or a new worker started with it. */
  function workerFor(workerData: WorkerInput): Worker {
    const taken = spare;
    spare = undefined;
    if (taken && !taken.exited) {
      clearTimeout(taken.idle);
      taken.worker.ref();
      taken.worker.removeAllListeners("error");
      taken.worker.postMessage(workerData);
      return taken.worker;
    }
    const worker = new Worker(WORKER, { ...workerOptions, workerData });
    worker.stdout.resume();
    worker.stderr.resume();
    return worker;
  }

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
      const { module, memoryFlag } = await compiled.get(spec.wasm, spec.memoryMb);

      const stdio: [number, number, number] = [openSync(devNull, "r"), openSync(join(outputsDir, "stdout"), "w"), openSync(join(outputsDir, "stderr"), "w")];
      const workerData: WorkerInput = {
        module,
        preopens: { [INPUTS_DIR]: inputsDir, [OUTPUTS_DIR]: outputsDir },
        env: spec.env,
        args: spec.args,
        stdio,
        memoryFlag,
      };
      const started = performance.now();
      let worker: Worker;
      try {
        worker = workerFor(workerData);
      } catch (e) {
        for (const fd of stdio) closeSync(fd);
        throw e;
      }
      // The next job's worker starts now, beside this one, rather than when that job comes.
      setImmediate(startSpare);

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
