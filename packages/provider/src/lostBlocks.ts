// Blocks the chain node lost. A node can drop its last blocks (anvil restarted from its state file
// does; a reorg does the same on a real chain), and with them the commit that paid the provider.
// A settled deal is no longer followed, so the provider would never see it open again, and past
// its deadline anyone could claim the timeout and slash an honest provider (the chaos test found
// this). So each block a settled record relies on is written down before the record
// (db.relyOn) and checked, at most once an interval, to still be the chain's: all written blocks
// in one batched read. When all are there only the highest is kept: the others were on the chain
// together with it, so they are its ancestors. When one is gone, the settled deals whose deadline
// has not passed are followed again: the next pass reads each from the chain and commits again
// what the chain no longer has.
import { BlockNotFoundError } from "viem";
import type { LilyClient } from "@lily/chain";
import type { Logger } from "@lily/node-kit";
import type { BlockRef, ProviderDb } from "./db.ts";

export interface LostBlocksDeps {
  db: ProviderDb;
  chain: LilyClient;
  logger: Logger;
  /** Milliseconds since the epoch. */
  clock: () => number;
  /** Called once settled deals are followed again: they need a pass. */
  onLost: (dealIds: readonly string[]) => void;
  /** At most one check per this many milliseconds. */
  intervalMs?: number;
}

export interface LostBlocksWatch {
  /** Check the written blocks unless checked within the interval or already checking; never throws. */
  check(): void;
  /** The check in flight, if any (for closing and tests). */
  readonly running: Promise<void> | undefined;
}

export function watchLostBlocks(deps: LostBlocksDeps): LostBlocksWatch {
  const intervalMs = deps.intervalMs ?? 1000;
  let last = Number.NEGATIVE_INFINITY;
  let running: Promise<void> | undefined;
  return {
    check() {
      if (running || deps.clock() - last < intervalMs) return;
      last = deps.clock();
      running = checkOnce(deps)
        .catch((e) => deps.logger.warn("could not check that the chain still has the blocks that paid settled deals; checking again later", { err: e }))
        .finally(() => (running = undefined));
    },
    get running() {
      return running;
    },
  };
}

async function checkOnce({ db, chain, logger, clock, onLost }: LostBlocksDeps): Promise<void> {
  const written = db.reliedBlocks();
  if (written.length === 0) return;
  const numbers = [...new Set(written.map((b) => b.number))];
  const found = await Promise.all(numbers.map((n) => hashAt(chain, n)));
  const onChain = new Map(numbers.map((n, i) => [n, found[i]]));
  const lost = written.filter((b) => onChain.get(b.number) !== b.hash.toLowerCase());
  if (lost.length === 0) {
    // Ancestors of the highest: it alone stands for them from now on.
    db.forgetBlocks(written.slice(0, -1));
    return;
  }
  const again = db.followSettledAgain(Math.floor(clock() / 1000));
  db.forgetBlocks(written);
  logger.warn("the chain node lost blocks that settled deals relied on: following those deals again until their deadline", {
    lostBlocks: lost.map((b) => `${b.number}:${b.hash.slice(0, 10)}`),
    deals: again.length,
  });
  onLost(again);
}

/** The hash of the chain's block at this height, or undefined if it has none (yet). */
async function hashAt(chain: LilyClient, number: bigint): Promise<string | undefined> {
  try {
    return (await chain.publicClient.getBlock({ blockNumber: number })).hash?.toLowerCase();
  } catch (e) {
    if (e instanceof BlockNotFoundError) return undefined;
    throw e;
  }
}

/** The chain's newest block: what a record read from the chain relies on (the change it saw is at or below it). */
export async function headBlock(chain: LilyClient): Promise<BlockRef> {
  const b = await chain.publicClient.getBlock();
  return { number: b.number, hash: b.hash };
}
