// The executor contract, in the manner of Nomad's task drivers: every way of running a job (a WASM
// sandbox, a container on a Docker engine; model servers later) starts a task from a spec, waits
// for it, stops it and reports on it. Executors only report how a task ended; the runner decides what that means
// (a `limit` becomes SANDBOX_LIMIT, a trap or a non-zero exit becomes EXECUTION_FAILED).

/** What every kind of task has: the job's directories, environment, argv, memory and time. */
export interface TaskBase {
  /** Host directory shown to the module, read-only, as /inputs (inputs.json and file inputs). */
  inputsDir: string;
  /** Host directory shown to the module as /outputs; stdout and stderr are saved in it. */
  outputsDir: string;
  /** The module's whole environment (scalar inputs as INPUT_<NAME>); nothing is inherited. */
  env: Record<string, string>;
  /** The module's argv; by convention args[0] is the program's name. */
  args: string[];
  /** Memory cap, in MiB (1 MiB = 16 WebAssembly pages). */
  memoryMb: number;
  /** Wall-clock limit, in milliseconds, from start to exit. */
  timeoutMs: number;
}

/** A WASI binary for the WASM sandbox. */
export interface WasmTaskSpec extends TaskBase {
  kind?: "wasm";
  /** The module binary, already verified against its CID. */
  wasm: Uint8Array;
}

/** A container on a Docker engine. `args` is ignored: the container runs `command`. */
export interface ContainerTaskSpec extends TaskBase {
  kind: "docker";
  /** The image by content digest (sha256:...), already present on the engine and checked. */
  image: string;
  /** The program and its arguments. */
  command: string[];
  /** CPUs the task may use (a CFS quota, fractional allowed). */
  cpu: number;
  /** GPUs to hand to the container (Docker device requests); 0 for none. */
  gpus: number;
  /** Give the container a network; false runs it with `--network none`. */
  network: boolean;
  /** The most the task may write to /outputs, in bytes; it is stopped when it writes more. */
  outputLimitBytes: number;
}

export type TaskSpec = WasmTaskSpec | ContainerTaskSpec;

export type Limit = "memory" | "timeout" | "output";

export interface ExitResult {
  /** The module's exit code; TRAPPED_EXIT_CODE if it trapped, KILLED_EXIT_CODE if it was killed. */
  exitCode: number;
  /** Wall-clock time from start to exit, sandbox start-up included. */
  durationMs: number;
  /** The limit that ended the task, if one did. */
  limit?: Limit;
  /** Why the module did not exit by itself: the trap or instantiation error, if any. */
  error?: string;
}

/** The exit code of a task that was killed: 128 + SIGKILL, as shells and Docker report it. */
export const KILLED_EXIT_CODE = 137;
/** The exit code of a module that trapped or could not start: 128 + SIGABRT, as for a crash. */
export const TRAPPED_EXIT_CODE = 134;

export interface TaskHandle {
  readonly id: string;
  /** Milliseconds since the epoch. */
  readonly startedAt: number;
}

export interface TaskStatus {
  id: string;
  state: "running" | "exited";
  startedAt: number;
  /** Set once the task has exited. */
  exit?: ExitResult;
}

export interface Executor<S extends TaskSpec = TaskSpec> {
  /** Start a task; rejects (and starts nothing) if the spec cannot run, e.g. its memory cap is too small. */
  start(spec: S): Promise<TaskHandle>;
  /** Resolves once the task has exited, however it ended. */
  wait(handle: TaskHandle): Promise<ExitResult>;
  /** Kill the task if it is still running; resolves once it has exited. */
  stop(handle: TaskHandle): Promise<ExitResult>;
  inspect(handle: TaskHandle): TaskStatus;
}
