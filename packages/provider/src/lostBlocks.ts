// Blocks the chain node lost, as the provider meets them. A node can drop its last blocks (anvil
// restarted from its state file does; a reorg does the same on a real chain), and with them the
// commit that paid the provider (for a routed trust deal, its LilyTrustDeals settlement: the same
// relied block, the same following again). A settled deal is no longer followed, so the provider
// would never see it open again, and past its deadline anyone could claim the timeout and slash an
// honest provider (the chaos test found this). So each block a settled record relies on is written down
// before the record (db.blocks.relyOn) and checked by @lily/chain's watchReliedBlocks; when one is
// gone, the settled deals whose deadline has not passed are followed again: the next pass reads
// each from the chain and commits again what the chain no longer has. Leases the same: a closed
// lease whose collateral came back is no longer followed, and a lost close is sent again while the
// claim window is open.
import { watchReliedBlocks, type LilyClient, type ReliedBlocksWatch } from "@lily/chain";
import type { Logger } from "@lily/node-kit";
import type { ProviderDb } from "./db.ts";

export interface LostBlocksDeps {
  db: ProviderDb;
  chain: LilyClient;
  logger: Logger;
  /** Milliseconds since the epoch. */
  clock: () => number;
  /** Called once settled deals are followed again: they need a pass. */
  onLost: (dealIds: readonly string[]) => void;
  /** The lease service, if the provider serves models: follows its closed leases again (and passes); how many. */
  leases?: { followAgain(): number };
  /** At most one check per this many milliseconds. */
  intervalMs?: number;
}

export function watchLostBlocks(deps: LostBlocksDeps): ReliedBlocksWatch {
  const { db, logger, clock } = deps;
  return watchReliedBlocks({
    chain: deps.chain,
    store: db.blocks,
    clock,
    ...(deps.intervalMs !== undefined && { intervalMs: deps.intervalMs }),
    onError: (err) => logger.warn("could not check that the chain still has the blocks that paid settled deals; checking again later", { err }),
    onLost(found) {
      const again = db.followSettledAgain(Math.floor(clock() / 1000));
      const leases = deps.leases?.followAgain() ?? 0;
      logger.warn("the chain node lost blocks that settled deals or closed leases relied on: following them again while they can be sent again", {
        lostBlocks: found.lost.map((b) => `${b.number}:${b.hash.slice(0, 10)}`),
        deals: again.length,
        leases,
      });
      deps.onLost(again);
    },
  });
}
