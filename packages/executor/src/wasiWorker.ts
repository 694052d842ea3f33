// The inside of the sandbox: a worker thread that runs WASI preview1 commands, one at a time, and
// reports how each ended. Each job gets a new WASI instance and a new instance of its module, so
// nothing of one run reaches the next: a module's state is its instance's memory and globals, and
// it touches the host only through its own WASI instance (the two preopened directories, under
// the policy of sandboxImports, and the stdio descriptors the executor opened for it: no other
// file, no socket, only the environment it is given). The executor decides whether a worker takes
// another job (wasmExecutor.ts). Kept free of dependencies so it starts fast.
import { parentPort } from "node:worker_threads";
import { WASI } from "node:wasi";
import { TRAPPED_EXIT_CODE } from "./executor.ts";
import { sandboxImports } from "./sandboxImports.ts";

export interface WorkerInput {
  module: WebAssembly.Module;
  /** Guest path -> host directory, /inputs first. */
  preopens: Record<string, string>;
  env: Record<string, string>;
  args: string[];
  /** Host descriptors for the module's stdin, stdout and stderr. */
  stdio: [number, number, number];
  /** The exported global that records a refused memory.grow, if the module was instrumented. */
  memoryFlag: string | null;
}

export interface WorkerOutput {
  exitCode: number;
  /** The trap or instantiation error, if the module did not exit by itself. */
  error?: string;
  memoryDenied: boolean;
  /** The size of the module's memory when it ended (0 if it never started). */
  memoryBytes: number;
}

// uvwasi numbers preopens from 3 in the order given: /inputs is the first.
const INPUTS_FD = 3;

/** Run one job: a fresh WASI instance and a fresh module instance, nothing kept from the last. */
async function runJob(input: WorkerInput): Promise<WorkerOutput> {
  const [stdin, stdout, stderr] = input.stdio;
  const wasi = new WASI({ version: "preview1", args: input.args, env: input.env, preopens: input.preopens, stdin, stdout, stderr, returnOnExit: true });
  let instance: WebAssembly.Instance | undefined;
  let exitCode: number;
  let error: string | undefined;
  try {
    instance = await WebAssembly.instantiate(input.module, sandboxImports(wasi, INPUTS_FD));
    exitCode = wasi.start(instance);
  } catch (e) {
    exitCode = TRAPPED_EXIT_CODE;
    error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  }
  const flag = input.memoryFlag ? instance?.exports[input.memoryFlag] : undefined;
  const memory = instance?.exports.memory;
  return {
    exitCode,
    memoryDenied: flag instanceof WebAssembly.Global && flag.value === 1,
    memoryBytes: memory instanceof WebAssembly.Memory ? memory.buffer.byteLength : 0,
    ...(error && { error }),
  };
}

// Jobs arrive as messages, one at a time: the executor sends the next only after this one's report.
parentPort!.on("message", async (input: WorkerInput) => parentPort!.postMessage(await runJob(input)));
