// The executors a provider or mediator process runs jobs with: the WASM sandbox always, and
// containers when a Docker engine answers (DOCKER_HOST, the standard socket, or the devnet's
// private daemon). Role processes never start a daemon themselves: `lily devnet` does that, and
// a real provider runs Docker as its operator set it up. No engine means container modules are
// not offered, with the reason kept for whoever asks.
import { findOrStartDocker } from "./docker/daemon.ts";
import { createDockerExecutor } from "./docker/dockerExecutor.ts";
import { DockerEngine } from "./docker/engine.ts";
import { createImageLoader } from "./docker/images.ts";
import { detectGpus } from "./docker/nvidiaSmi.ts";
import { createExecutorSet, type ExecutorSet } from "./executorSet.ts";
import { createWasmExecutor } from "./wasmExecutor.ts";

export interface ConnectExecutorsOptions {
  /** "auto" (default): use an engine if one answers; "off": WASM only; else a DOCKER_HOST value. */
  docker?: string;
  /** Where the devnet's private daemon would be (its socket is looked for there too). */
  dockerHome: string;
  /** Let modules that ask for a network have one (default false: they are refused). */
  allowNetwork?: boolean;
  /** Where image archives are downloaded before they are loaded. */
  cacheDir?: string;
  /** The largest image archive fetched, in bytes (default the loader's 4 GiB). */
  maxArchiveBytes?: number;
  /** GPUs containers may be given, when the caller already knows (a provider has detected and offered them); else detected here. */
  gpus?: number;
}

export interface ConnectedExecutors {
  executors: ExecutorSet;
  /** Why container modules cannot run here, if they cannot. */
  dockerUnavailable?: string;
}

export async function connectExecutors(opts: ConnectExecutorsOptions): Promise<ConnectedExecutors> {
  const wasm = createWasmExecutor();
  const choice = opts.docker ?? "auto";
  if (choice === "off") {
    const why = "this party runs WASM modules only (--docker off)";
    return { executors: createExecutorSet({ wasm, dockerUnavailable: why }), dockerUnavailable: why };
  }
  const found = await findOrStartDocker({
    home: opts.dockerHome,
    mayStart: false,
    env: choice === "auto" ? process.env : { ...process.env, DOCKER_HOST: choice },
  });
  if ("unavailable" in found) return { executors: createExecutorSet({ wasm, dockerUnavailable: found.unavailable }), dockerUnavailable: found.unavailable };
  const engine = new DockerEngine(found.endpoint);
  // A broken driver (nvidia-smi present but failing) costs the GPUs, not the provider.
  const gpus =
    opts.gpus ??
    (await detectGpus().then(
      (found) => found.length,
      () => 0,
    ));
  const docker = createDockerExecutor({ engine, gpus, network: opts.allowNetwork ? "bridge" : false });
  const images = createImageLoader({
    engine,
    ...(opts.cacheDir && { cacheDir: opts.cacheDir }),
    ...(opts.maxArchiveBytes !== undefined && { maxArchiveBytes: opts.maxArchiveBytes }),
  });
  return { executors: createExecutorSet({ wasm, docker, images }) };
}
