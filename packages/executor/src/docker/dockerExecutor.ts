// The Docker executor: runs a container task on a real engine through the Engine API, with the
// same contract as the WASM sandbox. The image is named by its ID only (a tag can be moved, an ID
// cannot); what the container may do is in containerConfig.ts; what it leaves in /outputs is
// checked in outputs.ts. Limits are enforced here, not requested: the wall clock by a kill, the
// output size by measuring /outputs while it runs and after, memory by the kernel (reported from
// the engine's OOMKilled). Whatever happens, the container is removed before `wait` resolves.
// When the engine itself fails (stops answering, cannot kill), `wait` rejects instead of reporting
// an exit: that is the provider's trouble, to retry, and not a result of the module's.
import { chown } from "node:fs/promises";
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { LilyError } from "@lily/protocol";
import { KILLED_EXIT_CODE, type ContainerTaskSpec, type Executor, type ExitResult, type Limit, type TaskHandle, type TaskStatus } from "../executor.ts";
import { checkContainerSpec, checkDirectory } from "./checkContainerSpec.ts";
import { containerConfig, type ContainerSettings } from "./containerConfig.ts";
import { engineRefused, inspectContainer, removeContainer, requireImage, requireNetwork, waitContainer, type ContainerState } from "./containerCalls.ts";
import { CappedBuffer, createDemuxer } from "./demux.ts";
import { EngineError, type DockerEngine } from "./engine.ts";
import { keepOutputs, measureOutputs, type OutputRules } from "./outputs.ts";

export { DOCKER_MIN_MEMORY_MB } from "./checkContainerSpec.ts";
export { TASK_LABEL } from "./containerConfig.ts";

export interface DockerExecutorOptions {
  engine: DockerEngine;
  /** Processes (and threads) a task may have at once; default 256. */
  pidsLimit?: number;
  /** Size of the memory-backed /tmp (and /dev/shm), MiB; default 64. Counted in the task's memory. */
  tmpMb?: number;
  /** The network a task that asks for one joins; default "bridge". `false` refuses such tasks. */
  network?: string | false;
  /** GPUs this engine may hand to containers (e.g. `(await detectGpus()).length`); default 0. */
  gpus?: number;
  /** Bytes of stdout, and of stderr, saved; default 1 MiB each (never more than the output limit). */
  logLimitBytes?: number;
  /** How often /outputs is measured while a task runs, ms; default 250. */
  outputPollMs?: number;
  /** Files and directories a task may leave in /outputs; default 10,000. */
  maxOutputEntries?: number;
}

/** What the engine reports for a command that does not exist (127) or cannot be executed (126). */
const COMMAND_FAILED = new Set([126, 127]);
/** 128 + SIGXFSZ: a process killed for writing a file past the `fsize` limit, i.e. past the output limit. */
const FILE_TOO_BIG_EXIT_CODE = 153;
const MAX_TIMER_MS = 2 ** 31 - 1; // setTimeout fires at once for anything longer
/** How long the output stream may stay open after the container has exited. */
const STREAM_GRACE_MS = 10_000;

type Ending = "timeout" | "output" | "stopped";

interface Task {
  handle: TaskHandle;
  container: string;
  /** Why the executor killed the container, if it did (the first reason wins). */
  killedFor?: Ending;
  /** The kill request, while it is under way. */
  killing?: Promise<void>;
  /** Something the executor itself failed at while the task ran (measuring, killing). */
  failure?: unknown;
  exit?: ExitResult;
  /** Set once `done` has settled, with an exit or with the executor's failure. */
  ended?: boolean;
  done: Promise<ExitResult>;
}

export function createDockerExecutor(opts: DockerExecutorOptions): Executor<ContainerTaskSpec> {
  const { engine } = opts;
  const tasks = new Map<string, Task>();
  const root = process.getuid?.() === 0;
  // Never the image's USER, which may be root. As root we run tasks as nobody and lend them the
  // outputs directory; otherwise as ourselves, which is already not root and owns that directory.
  const user = root ? { uid: 65534, gid: 65534 } : { uid: process.getuid?.() ?? 65534, gid: process.getgid?.() ?? 65534 };
  /** Who gets the outputs back after the run, when the container ran as someone else. */
  const owner = root ? { uid: process.getuid!(), gid: process.getgid!() } : undefined;
  const settings: ContainerSettings = {
    user: `${user.uid}:${user.gid}`,
    pidsLimit: opts.pidsLimit ?? 256,
    tmpMb: opts.tmpMb ?? 64,
    network: opts.network || "bridge",
  };

  function task(handle: TaskHandle): Task {
    const t = tasks.get(handle.id);
    if (!t) throw new LilyError({ code: "NOT_FOUND", field: "handle", message: `no task ${handle.id}` });
    return t;
  }

  /** SIGKILL the container for `why`, once. A container that had already exited was not killed. */
  function kill(t: Task, why: Ending): Promise<void> {
    if (t.killedFor || t.exit) return t.killing ?? Promise.resolve();
    t.killedFor = why;
    t.killing = engine.json({ method: "POST", path: `/containers/${t.container}/kill`, query: { signal: "KILL" } }).then(
      () => {},
      (e) => {
        if (e instanceof EngineError && (e.status === 404 || e.status === 409))
          t.killedFor = undefined; // it had exited by itself
        else t.failure ??= e;
      },
    );
    return t.killing;
  }

  return {
    async start(spec: ContainerTaskSpec): Promise<TaskHandle> {
      checkContainerSpec(spec, { gpus: opts.gpus ?? 0, network: opts.network !== false });
      const inputsDir = checkDirectory(spec.inputsDir, "inputsDir");
      const outputsDir = checkDirectory(spec.outputsDir, "outputsDir");
      await requireImage(engine, spec.image);
      if (spec.network) await requireNetwork(engine, settings.network);
      if (root) await chown(outputsDir, user.uid, user.gid);
      const rules: OutputRules = { limitBytes: spec.outputLimitBytes, maxEntries: opts.maxOutputEntries ?? 10_000, maxPathBytes: 1024 };
      const logCap = Math.min(opts.logLimitBytes ?? 1024 * 1024, spec.outputLimitBytes);

      const handle: TaskHandle = { id: randomUUID(), startedAt: Date.now() };
      const started = performance.now();
      let container: string;
      try {
        const body = containerConfig({ ...spec, inputsDir, outputsDir }, settings, handle.id);
        container = (await engine.json<{ Id: string }>({ method: "POST", path: "/containers/create", query: { name: `lily-${handle.id}` }, json: body })).Id;
      } catch (e) {
        throw engineRefused(e, "create the container");
      }

      const stdout = new CappedBuffer(logCap);
      const stderr = new CappedBuffer(logCap);
      let attached: IncomingMessage | undefined;
      let commandFailed: ExitResult | undefined;
      try {
        // Attached before the start, or the first lines would be lost.
        attached = await engine.stream({ method: "POST", path: `/containers/${container}/attach`, query: { stream: 1, stdout: 1, stderr: 1 } });
        try {
          await engine.json({ method: "POST", path: `/containers/${container}/start` });
        } catch (e) {
          // A command that is missing or not executable is the module's failure, as `docker run`
          // reports it (127, 126): a result like any exit. Anything else is this engine's.
          const state = (await inspectContainer(engine, container)).State;
          if (!(e instanceof EngineError) || !COMMAND_FAILED.has(state.ExitCode))
            throw engineRefused(e, "start the container", spec.gpus > 0 ? "resources.gpu" : "docker", { container });
          commandFailed = { exitCode: state.ExitCode, durationMs: Math.round(performance.now() - started), error: state.Error || e.message };
        }
      } catch (e) {
        attached?.destroy();
        await removeContainer(engine, container);
        throw e;
      }
      if (commandFailed) {
        const exit = commandFailed;
        attached.destroy();
        await removeContainer(engine, container);
        // The note is the same on every engine (the engine's own words, which differ between
        // versions, are in `exit.error`): a re-run elsewhere must leave the same stderr.
        await keepOutputs(outputsDir, rules, owner, stdout, stderr, [`the command could not be run (exit ${exit.exitCode})`]);
        tasks.set(handle.id, { handle, container, exit, done: Promise.resolve(exit) });
        return handle;
      }

      let done!: { resolve(exit: ExitResult): void; reject(e: unknown): void };
      const t: Task = {
        handle,
        container,
        done: new Promise((resolve, reject) => {
          done = { resolve, reject };
        }),
      };
      // `wait` hands the failure (if any) to its caller; this keeps an unawaited task from
      // becoming an unhandled rejection that ends the process.
      t.done.catch(() => {});
      tasks.set(handle.id, t);
      const stream = attached;
      const demux = createDemuxer((kind, chunk) => (kind === "stdout" ? stdout : stderr).push(chunk));
      stream.on("data", (chunk: Buffer) => demux.write(chunk));
      const streamEnded = new Promise<void>((done, fail) => {
        stream.once("end", done);
        stream.once("error", fail);
      });
      streamEnded.catch(() => {}); // awaited (and its error thrown) in supervise

      const timer = setTimeout(() => void kill(t, "timeout"), Math.min(spec.timeoutMs, MAX_TIMER_MS));
      let poll: NodeJS.Timeout | undefined;
      let running = true;
      const watch = (): void => {
        poll = setTimeout(async () => {
          try {
            const usage = await measureOutputs(outputsDir, rules);
            if (usage.over && running) await kill(t, "output");
          } catch (e) {
            t.failure ??= e;
            await kill(t, "stopped");
          }
          if (running && !t.killedFor) watch();
        }, opts.outputPollMs ?? 250);
      };
      watch();

      const supervise = async (): Promise<ExitResult> => {
        let state: ContainerState | undefined;
        let failure: unknown;
        try {
          await waitContainer(engine, container);
          await t.killing;
          state = (await inspectContainer(engine, container)).State;
          await withGrace(streamEnded, STREAM_GRACE_MS, () => stream.destroy(new Error("the engine kept the output stream open after the container exited")));
        } catch (e) {
          failure = e;
        } finally {
          running = false;
          clearTimeout(timer);
          clearTimeout(poll);
        }
        try {
          await removeContainer(engine, container);
        } catch (e) {
          if (failure === undefined) throw e;
          throw new LilyError({
            code: "EXECUTOR_UNAVAILABLE",
            field: "docker",
            message: `${String((failure as Error).message ?? failure)}; and container ${container} could not be removed: ${(e as Error).message}`,
            cause: failure,
          });
        }
        failure ??= t.failure;
        if (failure !== undefined) throw failure;

        const settled = await keepOutputs(outputsDir, rules, owner, stdout, stderr);
        const durationMs = Math.round(performance.now() - started);
        return exitOf(t.killedFor, state!, settled.over !== undefined, durationMs);
      };
      supervise().then(
        (exit) => {
          t.exit = exit;
          done.resolve(exit);
        },
        (e) => {
          t.ended = true;
          done.reject(e);
        },
      );
      return handle;
    },

    wait(handle: TaskHandle): Promise<ExitResult> {
      return task(handle).done;
    },

    async stop(handle: TaskHandle): Promise<ExitResult> {
      const t = task(handle);
      await kill(t, "stopped");
      return t.done;
    },

    inspect(handle: TaskHandle): TaskStatus {
      const t = task(handle);
      return { id: handle.id, state: t.exit || t.ended ? "exited" : "running", startedAt: t.handle.startedAt, ...(t.exit && { exit: t.exit }) };
    },
  };
}

/** How the task ended: the executor's own kill first, then what the kernel and the module did. */
function exitOf(killedFor: Ending | undefined, state: { ExitCode: number; OOMKilled: boolean }, overOutput: boolean, durationMs: number): ExitResult {
  if (killedFor === "timeout") return { exitCode: KILLED_EXIT_CODE, durationMs, limit: "timeout" };
  if (killedFor === "output") return { exitCode: KILLED_EXIT_CODE, durationMs, limit: "output" };
  if (killedFor === "stopped") return { exitCode: KILLED_EXIT_CODE, durationMs, error: "stopped" };
  const exitCode = state.ExitCode;
  let limit: Limit | undefined;
  if (overOutput || exitCode === FILE_TOO_BIG_EXIT_CODE) limit = "output";
  // An OOM kill explains a failure, not a module that coped with it (a child killed) and exited 0.
  else if (state.OOMKilled && exitCode !== 0) limit = "memory";
  return { exitCode, durationMs, ...(limit && { limit }) };
}

/** Await `p`; if it has not settled within `ms`, call `onLate` (which should make it settle) and await it still. */
async function withGrace(p: Promise<void>, ms: number, onLate: () => void): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((done) => {
    timer = setTimeout(() => {
      onLate();
      done();
    }, ms);
  });
  try {
    await Promise.race([p, late.then(() => p)]);
  } finally {
    clearTimeout(timer);
  }
}
