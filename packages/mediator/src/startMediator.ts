// The mediator as a process: its real chain client, solver client, store, WASM executor and the
// system clock, put together from its options. The behaviour is all in `createMediator`.
import { createClient, solverRoutes } from "@lily/api";
import { createLilyClient } from "@lily/chain";
import { createExecutorSet, createWasmExecutor, type ExecutorSet } from "@lily/executor";
import type { Logger } from "@lily/node-kit";
import { StoreClient } from "@lily/store";
import { createMediator, type RunningMediator } from "./mediator.ts";
import type { MediatorOptions } from "./options.ts";

/** `executor`: what it re-runs jobs with (default: the WASM sandbox only). */
export function startMediator(opts: MediatorOptions, deps: { logger: Logger; executor?: ExecutorSet }): Promise<RunningMediator> {
  const chain = createLilyClient({
    rpcUrl: opts.rpcUrl,
    account: opts.account,
    addresses: { chainId: opts.chainId, token: opts.token, deals: opts.deals, registry: opts.registry, deployBlock: opts.deployBlock },
  });
  return createMediator(opts, {
    logger: deps.logger,
    chain,
    solver: createClient(opts.solverUrl, solverRoutes, { peer: `solver at ${opts.solverUrl}` }),
    store: new StoreClient(opts.storeUrl),
    executor: deps.executor ?? createExecutorSet({ wasm: createWasmExecutor() }),
    clock: { now: () => Date.now() },
  });
}
