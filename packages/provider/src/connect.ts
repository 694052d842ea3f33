// The real peers of a provider process, built from its network endpoints: a chain client sending
// from its account, the solver's API and event stream, the store, the WASM executor.
import { solverSet, watchAll } from "@lily/api";
import { addressesOf, createLilyClient } from "@lily/chain";
import { createWasmExecutor } from "@lily/executor";
import { StoreClient } from "@lily/store";
import type { ProviderOptions } from "./options.ts";
import type { ProviderDeps } from "./provider.ts";

export function connectProvider(opts: ProviderOptions): Omit<ProviderDeps, "logger"> {
  const solvers = opts.solverUrls?.length ? opts.solverUrls : [opts.solverUrl];
  return {
    chain: createLilyClient({
      rpcUrl: opts.rpcUrl,
      account: opts.account,
      addresses: addressesOf(opts),
    }),
    solver: solverSet(solvers),
    store: new StoreClient(opts.storeUrl),
    executor: createWasmExecutor(),
    // The events' records serve passes about their deals only with one solver: with several, a pass merges their lists.
    watch: (onChange) =>
      watchAll(solvers, { provider: opts.account.address }, (hint, event) => onChange(hint, solvers.length === 1 ? event : undefined), {
        onOpen: () => onChange(undefined),
      }),
  };
}
