// The modules published in the on-chain registry, followed as they are published: a provider
// that allows "what the network publishes" (its default) offers a new module as soon as it is
// registered, without a restart. Read incrementally from the registry's events, at most once per
// `intervalMs`; a chain that does not answer keeps the last list (and says so once).
import { getModuleEvents, type LilyClient } from "@lily/chain";
import type { Logger } from "@lily/node-kit";

export interface RegisteredModules {
  /** Every manifest CID published so far (as of the last read). */
  cids(): Promise<readonly string[]>;
}

export function followRegistry(chain: LilyClient, logger: Logger, intervalMs = 5000, clock: () => number = Date.now): RegisteredModules {
  const seen = new Set<string>();
  let nextBlock: bigint | undefined;
  let lastRead = -Infinity;
  let failing = false;
  return {
    async cids() {
      if (clock() - lastRead < intervalMs) return [...seen];
      lastRead = clock();
      try {
        const head = await chain.publicClient.getBlockNumber();
        if (nextBlock === undefined || head >= nextBlock) {
          const events = await getModuleEvents(chain, nextBlock === undefined ? {} : { fromBlock: nextBlock });
          for (const e of events) if (e.kind === "published") seen.add(e.manifestCid);
          nextBlock = head + 1n;
        }
        failing = false;
      } catch (e) {
        if (!failing) logger.warn("the module registry could not be read: offering the modules known so far", { error: (e as Error).message });
        failing = true;
      }
      return [...seen];
    },
  };
}
