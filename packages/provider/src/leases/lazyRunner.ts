// A ModelRunner whose model is loaded on its first use, not when the provider starts: node-llama-cpp
// (some 400 modules, its native binding and the probe process it starts) and the weights made an
// idle provider serving the devnet's tiny model ~116 MiB resident, against ~80 for one serving none.
// The weights are still checked at start (loadModel.ts), so offers are only made for a file that is
// there and is the manifest's; what is deferred is llama.cpp itself. Once loaded the model stays
// loaded until the runner is closed: jobs never pay for a load twice. A load that fails is not
// kept, so the next job tries again and gets the error afresh.
import type { GenerateOptions, ModelInfo, ModelRunner } from "@lily/executor";
import { type InferenceRequest, LilyError } from "@lily/protocol";

export interface LazyRunner extends ModelRunner {
  /** Whether the model is in memory (a load finished and it was not closed). */
  loaded(): boolean;
  /** Start the load now, if it has not started; a failure is left for the next request to meet. */
  prepare(): void;
}

/**
 * `info()` answers from `expected` (the manifest's figures) until the model is loaded, then from the
 * runner: llama.cpp may cap the context at what the model was trained for. Every caller that needs
 * the exact figure (infer.ts) asks after counting the prompt's tokens, which loads the model.
 */
export function lazyRunner(load: () => Promise<ModelRunner>, expected: ModelInfo): LazyRunner {
  let runner: Promise<ModelRunner> | undefined;
  let ready: ModelRunner | undefined;
  let closed = false;
  const get = (): Promise<ModelRunner> => {
    if (closed) return Promise.reject(new LilyError({ code: "EXECUTOR_UNAVAILABLE", field: "model", message: "the model runner is closed" }));
    runner ??= load().then(
      (r) => {
        ready = r;
        return r;
      },
      (e: unknown) => {
        runner = undefined;
        throw e;
      },
    );
    return runner;
  };
  return {
    loaded: () => ready !== undefined,
    prepare: () => {
      if (!closed) get().catch(() => undefined);
    },
    info: () => ready?.info() ?? expected,
    countInputTokens: async (request: InferenceRequest) => (await get()).countInputTokens(request),
    generate: async (request: InferenceRequest, opts?: GenerateOptions) => (await get()).generate(request, opts),
    embed: async (texts: string[]) => (await get()).embed(texts),
    close: async () => {
      closed = true;
      const r = await runner?.catch(() => undefined);
      ready = undefined;
      await r?.close();
    },
  };
}
