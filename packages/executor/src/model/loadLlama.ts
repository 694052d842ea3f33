// The llama.cpp binding, loaded once per process and backend. Only node-llama-cpp's prebuilt
// binaries are used (`build: "never"`): nothing is ever compiled on a provider. With `gpu: "auto"`
// node-llama-cpp tries its CUDA, Vulkan or Metal build when the machine has such a GPU and falls
// back to the CPU build otherwise; `gpu: false` (or LILY_CPU_ONLY=1 in the environment) forces the CPU.
// node-llama-cpp (some 400 modules, ~45 MiB) is imported only when a model is first loaded, so a
// provider or mediator that serves no model never carries it (an idle role stays small).
import type { Llama } from "node-llama-cpp";
import { LilyError } from "@lily/protocol";

export type GpuChoice = "auto" | false;

/** llama.cpp's own log lines (warnings and errors only), for the caller's logger. */
export type LlamaLog = (level: "warn" | "error", message: string) => void;

const loaded = new Map<string, Promise<Llama>>();

/** The backend to ask for when the caller does not say: a GPU if there is one, unless LILY_CPU_ONLY=1. */
export function defaultGpu(env: NodeJS.ProcessEnv = process.env): GpuChoice {
  return env.LILY_CPU_ONLY === "1" || env.LILY_CPU_ONLY === "true" ? false : "auto";
}

let logSink: LlamaLog | undefined;

/** The shared binding for this backend; the first caller's `onLog` receives llama.cpp's warnings. */
export function loadLlama(gpu: GpuChoice, onLog?: LlamaLog): Promise<Llama> {
  logSink ??= onLog;
  const key = String(gpu);
  let llama = loaded.get(key);
  if (!llama) {
    llama = import("node-llama-cpp")
      .then(({ getLlama, LlamaLogLevel }) =>
        getLlama({
          gpu,
          build: "never",
          logLevel: LlamaLogLevel.warn,
          logger: (level, message) => {
            if (level === LlamaLogLevel.error || level === LlamaLogLevel.fatal) logSink?.("error", message);
            else if (level === LlamaLogLevel.warn) logSink?.("warn", message);
          },
        }),
      )
      .catch((cause: unknown) => {
        loaded.delete(key);
        throw new LilyError({
          code: "EXECUTOR_UNAVAILABLE",
          field: "gpu",
          message: `node-llama-cpp has no prebuilt binary that loads here (gpu: ${key})`,
          hint: "set LILY_CPU_ONLY=1 to use the CPU build",
          cause,
        });
      });
    loaded.set(key, llama);
  }
  return llama;
}
