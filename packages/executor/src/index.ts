// @lily/executor: sandboxes that run modules. Providers run jobs with them; mediators re-run
// disputed jobs with the very same code, so a ruling compares like with like.
export * from "./executor.ts";
export * from "./wasmExecutor.ts";
export * from "./capMemory.ts";
export * from "./jobDirs.ts";
export * from "./loadJob.ts";
export * from "./executorSet.ts";
export * from "./docker/engine.ts";
export * from "./docker/daemon.ts";
export * from "./docker/dockerExecutor.ts";
export * from "./docker/nvidiaSmi.ts";
export * from "./docker/images.ts";
export * from "./connectExecutors.ts";
export * from "./model/modelRunner.ts";
export * from "./model/llamaRunner.ts";
export * from "./model/forwardingRunner.ts";
export * from "./model/openaiServer.ts";
export { defaultGpu, type GpuChoice, type LlamaLog } from "./model/loadLlama.ts";
