// Blocks a role's records rely on, and whether the chain still has them. A node can drop its last
// blocks (anvil restarted from its state file does; a reorg does the same on a real chain), and
// with them a transaction whose receipt a role already saw and recorded as done: a ruling, a
// commit, a scan of the logs. A role writes down the block each such record relies on (before the
// record, so a crash cannot skip it) and lets `watchReliedBlocks` check them, at most once an
// interval, in one batched read. When all are there only the highest is kept: the others were on
// the chain together with it, so they are its ancestors. When one is gone, the role is told which
// were lost and which are still the chain's, and follows again what relied on them.
import { BlockNotFoundError, type Hex } from "viem";
import type { LilyClient } from "./client.ts";
import type { WriteResult } from "./confirm.ts";

/** A block by its number and hash. */
export interface BlockRef {
  number: bigint;
  hash: Hex;
}

/** Where a role keeps the blocks its records rely on (a table in its own database). */
export interface ReliedBlocksStore {
  /** Every block written down and not forgotten, lowest first. */
  relied(): BlockRef[];
  /** Forget these blocks (checked, or lost and dealt with); blocks written meanwhile stay. */
  forget(blocks: readonly BlockRef[]): void;
}

/** What a lost block left: the blocks lost, and those of the same read the chain still has. */
export interface LostBlocks {
  lost: BlockRef[];
  kept: BlockRef[];
}

export interface ReliedBlocksDeps {
  chain: LilyClient;
  store: ReliedBlocksStore;
  /** Milliseconds since the epoch. */
  clock: () => number;
  /** The chain lost blocks a record relied on: follow again what relied on them. Once it resolves the blocks read are forgotten. */
  onLost: (found: LostBlocks) => void | Promise<void>;
  /** A check that failed (the node away): it is tried again at the next interval. */
  onError: (err: unknown) => void;
  /** At most one check per this many milliseconds. */
  intervalMs?: number;
}

export interface ReliedBlocksWatch {
  /** Check the written blocks unless checked within the interval or already checking; never throws. */
  check(): void;
  /** The check in flight, if any (for closing and tests). */
  readonly running: Promise<void> | undefined;
}

/** The block that carried a transaction. */
export const blockOf = (r: Pick<WriteResult, "blockNumber" | "blockHash">): BlockRef => ({ number: r.blockNumber, hash: r.blockHash });

/** The chain's newest block: what a record read from the chain relies on (what it saw is at or below it). */
export async function headBlock(chain: LilyClient): Promise<BlockRef> {
  const b = await chain.publicClient.getBlock({ blockTag: "latest" });
  return { number: b.number, hash: b.hash };
}

/** Which of `blocks` the chain no longer has: one read per distinct height, sent together. */
export async function lostAmong(chain: LilyClient, blocks: readonly BlockRef[]): Promise<LostBlocks> {
  const numbers = [...new Set(blocks.map((b) => b.number))];
  const found = await Promise.all(numbers.map((n) => hashAt(chain, n)));
  const onChain = new Map(numbers.map((n, i) => [n, found[i]]));
  const lost: BlockRef[] = [];
  const kept: BlockRef[] = [];
  for (const b of blocks) (onChain.get(b.number) === b.hash.toLowerCase() ? kept : lost).push(b);
  return { lost, kept };
}

export function watchReliedBlocks(deps: ReliedBlocksDeps): ReliedBlocksWatch {
  const intervalMs = deps.intervalMs ?? 1000;
  let last = Number.NEGATIVE_INFINITY;
  let running: Promise<void> | undefined;
  return {
    check() {
      if (running || deps.clock() - last < intervalMs) return;
      last = deps.clock();
      running = checkOnce(deps)
        .catch(deps.onError)
        .finally(() => (running = undefined));
    },
    get running() {
      return running;
    },
  };
}

async function checkOnce({ chain, store, onLost }: ReliedBlocksDeps): Promise<void> {
  const written = store.relied();
  if (written.length === 0) return;
  const found = await lostAmong(chain, written);
  if (found.lost.length === 0) {
    // Ancestors of the highest: it alone stands for them from now on.
    const highest = written.reduce((a, b) => (b.number > a.number ? b : a));
    store.forget(written.filter((b) => b !== highest));
    return;
  }
  await onLost(found);
  store.forget(written);
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
