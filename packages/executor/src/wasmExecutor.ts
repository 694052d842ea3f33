// The WASM executor: runs WASI preview1 modules under node:wasi in worker threads (wasiWorker.ts),
// with /inputs and /outputs as their only filesystem. Limits are enforced, not requested: the
// module's memory is capped in the binary, so the engine refuses to grow it past the cap
// (capMemory.ts), and the wall clock is enforced by terminating the worker.
//
// Workers are kept warm and reused: starting one costs ~60 ms of CPU, most of a trivial job's.
// Every job still gets a new WASI instance and a new module instance (nothing of one run reaches
// the next, see wasiWorker.ts); a worker only takes another job after one that ended by itself and
// left a small memory behind (the dead instance's memory stays until the worker's next
// collection). A worker stopped at a limit, or asked to stop, is terminated, never reused.
// As many finished workers are kept as jobs ran at once lately, plus the spare: keeping a fixed
// two made a provider running two jobs at a time end one finished worker and start a new spare
// for every pair of jobs (0.3-0.5 worker starts a job in the throughput bench).
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
/** A warm worker nobody took in this long is let go, so an idle provider holds none. */
const SPARE_IDLE_MS = 10_000;
/** A worker takes another job only after one whose memory ended at most this large. */
const REUSE_MAX_MEMORY_BYTES = 16 * 1024 * 1024;
const MAX_TIMER_MS = 2 ** 31 - 1; // setTimeout fires at once for anything longer

export interface WasmExecutorOptions {
  /** Heap cap for the worker's own JavaScript (the WASI glue, not the module's memory), MiB. */
  workerHeapMb?: number;
  /** How many compiled modules are kept for reuse (default 32). */
  compiledModules?: number;
  /**
   * Keep workers warm for the next jobs (default true): one started ahead of the next job, so its
   * start (~40-80 ms of a trivial job's ~70-150 ms) overlaps the previous job, and the workers of
   * finished jobs kept for reuse. Off: every job starts a worker and ends it.
   */
  warmSpare?: boolean;
  /** How long an untaken warm worker lives, ms (default 10 s): an idle executor holds none after it. */
  spareIdleMs?: number;
  /**
   * At most this many warm workers wait for jobs (default 16). Below it, a finished worker is kept
   * while fewer wait than the most jobs that ran at once within spareIdleMs, plus one (at least 2).
   */
  maxWarmWorkers?: number;
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

/** The WASM executor, with counts of how its workers were used. */
export interface WasmExecutor extends Executor<WasmTaskSpec> {
  /** Workers started so far, and jobs that ran on a worker an earlier job had already used. */
  readonly stats: { workersStarted: number; jobsOnUsedWorkers: number };
}

export function createWasmExecutor(opts: WasmExecutorOptions = {}): WasmExecutor {
  const tasks = new Map<string, Task>();
  // The same module under the same cap is capped, instrumented and compiled once (compiledModules.ts).
  const compiled = new CompiledModules(opts.compiledModules);
  const workerOptions = {
    env: {},
    stdout: true, // node's own warnings from inside the worker stay out of the provider's output
    stderr: true,
    resourceLimits: { maxOldGenerationSizeMb: opts.workerHeapMb ?? 64 },
  } as const;
  const warm = opts.warmSpare !== false;
  const maxWarm = opts.maxWarmWorkers ?? 16;
  const spareIdleMs = opts.spareIdleMs ?? SPARE_IDLE_MS;
  /** Warm workers waiting for a job, oldest first; unref'd so they never keep the process alive. */
  const parked: { worker: Worker; idle: NodeJS.Timeout }[] = [];
  const used = new WeakSet<Worker>();
  const stats = { workersStarted: 0, jobsOnUsedWorkers: 0 };
  /** Tasks running now, and the most that ran at once lately (forgotten spareIdleMs after it was last reached). */
  let running = 0;
  let peak = { count: 0, at: 0 };

  /** How many warm workers may wait now: one per job that ran at once lately, plus the spare. */
  function warmCap(): number {
    const recent = Date.now() - peak.at <= spareIdleMs ? peak.count : 0;
    return Math.min(maxWarm, Math.max(2, recent + 1));
  }

  function newWorker(): Worker {
    const worker = new Worker(WORKER, workerOptions);
    stats.workersStarted++;
    worker.stdout.resume();
    worker.stderr.resume();
    // A parked worker that dies (out of memory, say) is simply not used again.
    worker.on("error", () => {});
    worker.once("exit", () => unpark(worker));
    return worker;
  }

  function unpark(worker: Worker): boolean {
    const i = parked.findIndex((p) => p.worker === worker);
    if (i < 0) return false;
    clearTimeout(parked[i]!.idle);
    parked.splice(i, 1);
    return true;
  }

  /** Keep `worker` for a later job, until it has waited spareIdleMs. */
  function park(worker: Worker): void {
    if (!warm || parked.length >= warmCap()) {
      void worker.terminate();
      return;
    }
    worker.unref();
    const idle = setTimeout(() => {
      if (unpark(worker)) void worker.terminate();
    }, spareIdleMs).unref();
    parked.push({ worker, idle });
  }

  /** A warm worker started ahead of the next job, if none is waiting. */
  function startSpare(): void {
    if (warm && parked.length === 0) park(newWorker());
  }

  /** The most recently parked warm worker (its code is the hottest), or a new one. */
  function takeWorker(): Worker {
    const p = parked.pop();
    const worker = p?.worker ?? newWorker();
    if (p) {
      clearTimeout(p.idle);
      worker.ref();
    }
    if (used.has(worker)) stats.jobsOnUsedWorkers++;
    used.add(worker);
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
    stats,

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
        worker = takeWorker();
        worker.postMessage(workerData);
      } catch (e) {
        for (const fd of stdio) closeSync(fd);
        throw e;
      }
      running++;
      if (running >= peak.count || Date.now() - peak.at > spareIdleMs) peak = { count: running, at: Date.now() };
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
      let crash: Error | undefined;
      const timer = setTimeout(
        () => {
          t.timedOut = true;
          void worker.terminate();
        },
        Math.min(spec.timeoutMs, MAX_TIMER_MS),
      );
      // The task ends at the worker's report, or at its exit if it never reported (a limit, a stop, a crash).
      const end = (report: WorkerOutput | undefined) => {
        if (t.exit) return;
        clearTimeout(timer);
        worker.off("message", onReport);
        worker.off("error", onCrash);
        worker.off("exit", onExit);
        for (const fd of stdio) closeSync(fd);
        // The job's WASI instance is dead either way, and uvwasi never closes what it opened.
        closeStrayDescriptors([inputsDir, outputsDir]);
        t.exit = exitOf(t, report, crash, Math.round(performance.now() - started));
        t.worker = undefined;
        running--;
        if (report && !t.stopping && !t.timedOut && report.memoryBytes <= REUSE_MAX_MEMORY_BYTES) park(worker);
        else void worker.terminate();
        resolveExit(t.exit);
      };
      const onReport = (m: WorkerOutput) => end(m);
      const onCrash = (e: Error) => {
        crash = e;
      };
      const onExit = () => end(undefined);
      worker.on("message", onReport);
      worker.on("error", onCrash);
      worker.once("exit", onExit);
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
