// One executor in front of several: a task goes to the executor of its kind (the WASM sandbox, a
// Docker engine), and a kind this party cannot run is refused before anything starts, with the
// reason in one line. Providers and mediators hold one of these, so a job of either kind runs (and
// is re-run) by the same code.
import { LilyError } from "@lily/protocol";
import type { ContainerTaskSpec, Executor, ExitResult, TaskHandle, TaskSpec, TaskStatus, WasmTaskSpec } from "./executor.ts";
import type { ImageLoader, LoadJobOptions } from "./loadJob.ts";

export interface ExecutorKinds {
  wasm: Executor<WasmTaskSpec>;
  /** Absent where no Docker engine is reachable: container modules are then not offered. */
  docker?: Executor<ContainerTaskSpec>;
  /** Loads container images from the store (with `docker`). */
  images?: ImageLoader;
  /** Why `docker` is absent, said to whoever asks for a container. */
  dockerUnavailable?: string;
}

/** One executor for every kind, and what `loadJob` needs to make a container's image present. */
export interface ExecutorSet extends Executor, LoadJobOptions {
  /** The kinds of task this set can run. */
  readonly kinds: ReadonlyArray<"wasm" | "docker">;
}

export function createExecutorSet(kinds: ExecutorKinds): ExecutorSet {
  const owners = new Map<string, Executor<never>>();
  const ownerOf = (handle: TaskHandle): Executor<never> => {
    const owner = owners.get(handle.id);
    if (!owner) throw new LilyError({ code: "NOT_FOUND", field: "handle", message: `no task ${handle.id}` });
    return owner;
  };
  return {
    kinds: kinds.docker ? ["wasm", "docker"] : ["wasm"],
    ...(kinds.docker && kinds.images ? { images: kinds.images } : { imagesUnavailable: kinds.dockerUnavailable ?? "no Docker engine is reachable" }),
    async start(spec: TaskSpec): Promise<TaskHandle> {
      let handle: TaskHandle;
      if (spec.kind === "docker") {
        if (!kinds.docker) throw dockerMissing(kinds.dockerUnavailable);
        handle = await kinds.docker.start(spec);
        owners.set(handle.id, kinds.docker);
      } else {
        handle = await kinds.wasm.start(spec);
        owners.set(handle.id, kinds.wasm);
      }
      return handle;
    },
    async wait(handle: TaskHandle): Promise<ExitResult> {
      const exit = await ownerOf(handle).wait(handle);
      owners.delete(handle.id);
      return exit;
    },
    stop(handle: TaskHandle): Promise<ExitResult> {
      return ownerOf(handle).stop(handle);
    },
    inspect(handle: TaskHandle): TaskStatus {
      return ownerOf(handle).inspect(handle);
    },
  };
}

/** The refusal for a container task where no Docker engine is reachable. */
export function dockerMissing(why = "no Docker engine is reachable"): LilyError {
  return new LilyError({
    code: "EXECUTOR_UNAVAILABLE",
    field: "module.executor",
    message: `container modules cannot run here: ${why}`,
    hint: "install Docker (see the README) or set DOCKER_HOST",
  });
}
