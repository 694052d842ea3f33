// The inside of the sandbox: a worker thread that runs one WASI preview1 command and reports how
// it ended (one job per worker: nothing of one run can reach the next). The module's only capabilities are the two preopened directories (under the policy of
// sandboxImports) and the stdio descriptors the executor opened for it: no other file, no
// socket, only the environment it is given. Kept free of dependencies so it starts fast.
import { once } from "node:events";
import { parentPort, workerData } from "node:worker_threads";
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
}

// uvwasi numbers preopens from 3 in the order given: /inputs is the first.
const INPUTS_FD = 3;

// Started with its job, or started ahead of one (a warm spare, wasmExecutor.ts): then the job is
// the first message from the executor, and the worker runs that one job and exits.
const input = (workerData ?? (await once(parentPort!, "message"))[0]) as WorkerInput;
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
const output: WorkerOutput = { exitCode, memoryDenied: flag instanceof WebAssembly.Global && flag.value === 1, ...(error && { error }) };
parentPort!.postMessage(output);
