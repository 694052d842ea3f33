// What the mediator does when the chain node lost blocks its records relied on (anvil restarted
// from its state file; a reorg on a real chain). Two records go stale: a ruling recorded as sent,
// whose transaction is gone (unruled, the dispute would time out and unwind: the mediator loses
// its fee and the side that was right its due), and the scan cursor, past heights the node mines
// again with other transactions (a dispute raised there would never be seen). So the scan starts
// again below the loss, and the disputes ruled or resolved within a mediation timeout are looked
// at again: a ruling still on chain is found, one that is gone is sent again.
import { watchReliedBlocks, type BlockRef, type LilyClient, type LostBlocks, type ReliedBlocksWatch } from "@lily/chain";
import type { Logger } from "@lily/node-kit";
import type { MediatorDb } from "./db.ts";

/** With no block below the loss known to be kept, the scan starts again this many blocks below it. */
export const RESCAN_DEPTH = 256n;

export interface MediatorLostBlocksDeps {
  db: MediatorDb;
  chain: LilyClient;
  logger: Logger;
  /** Milliseconds since the epoch. */
  clock: () => number;
  mediationTimeoutSeconds: number;
}

export function watchMediatorBlocks(deps: MediatorLostBlocksDeps): ReliedBlocksWatch {
  const { db, chain, logger, clock } = deps;
  return watchReliedBlocks({
    chain,
    clock,
    store: db.blocks,
    onError: (err) => logger.warn("could not check that the chain still has the blocks our rulings and scan rely on; checking again later", { err }),
    onLost(found) {
      const scanFrom = rescanFrom(found, chain.addresses.deployBlock - 1);
      const revived = db.followAgain(scanFrom, clock() - deps.mediationTimeoutSeconds * 1000);
      logger.warn("the chain node lost blocks our records relied on: scanning again and looking again at recent disputes", {
        lostBlocks: found.lost.map(short),
        scanFrom,
        revived,
      });
    },
  });
}

/** The last height known to be unchanged: the highest block of the same read still on chain below the loss, else a margin below it. */
export function rescanFrom({ lost, kept }: LostBlocks, floor: number): number {
  const lowestLost = lost.reduce((min, b) => (b.number < min ? b.number : min), lost[0]!.number);
  const below = kept.filter((b) => b.number < lowestLost).map((b) => b.number);
  const from = below.length ? below.reduce((a, b) => (b > a ? b : a)) : lowestLost - 1n - RESCAN_DEPTH;
  return Math.max(floor, Number(from));
}

const short = (b: BlockRef) => `${b.number}:${b.hash.slice(0, 10)}`;
