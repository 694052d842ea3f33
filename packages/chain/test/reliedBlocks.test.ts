// The relied-blocks watch on its own: which blocks it keeps when all are the chain's, what it
// reports when one is gone, at most one read per height and one check per interval, and that a
// node that does not answer changes nothing. The chain is a table of block hashes by height; the
// mediator's and the gateway's tests lose a real anvil's blocks.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BlockNotFoundError, type Hex } from "viem";
import { lostAmong, watchReliedBlocks, type BlockRef, type LilyClient, type LostBlocks } from "../src/index.ts";

const hash = (n: number, fork = 0) => `0x${(n * 1000 + fork).toString(16).padStart(64, "0")}` as Hex;
const ref = (n: number, fork = 0): BlockRef => ({ number: BigInt(n), hash: hash(n, fork) });

/** A chain that is a map from height to hash; `down` makes every read fail as an unreachable node does. */
function fakeChain(blocks: Map<bigint, Hex>, state: { down: boolean; reads: bigint[] }): LilyClient {
  const publicClient = {
    getBlock: async ({ blockNumber }: { blockNumber: bigint }) => {
      state.reads.push(blockNumber);
      if (state.down) throw new Error("connect ECONNREFUSED");
      const h = blocks.get(blockNumber);
      if (!h) throw new BlockNotFoundError({ blockNumber });
      return { number: blockNumber, hash: h };
    },
  };
  return { publicClient } as unknown as LilyClient;
}

function setup() {
  const blocks = new Map<bigint, Hex>([1, 2, 3, 4].map((n) => [BigInt(n), hash(n)]));
  const state = { down: false, reads: [] as bigint[] };
  let stored: BlockRef[] = [];
  let clock = 1_000_000;
  const found: LostBlocks[] = [];
  const errors: unknown[] = [];
  const watch = watchReliedBlocks({
    chain: fakeChain(blocks, state),
    store: {
      relied: () => [...stored].sort((a, b) => Number(a.number - b.number)),
      forget: (gone) => (stored = stored.filter((b) => !gone.includes(b))),
    },
    clock: () => clock,
    onLost: (f) => void found.push(f),
    onError: (e) => void errors.push(e),
  });
  const check = async (ms = 1000) => {
    clock += ms;
    watch.check();
    await watch.running;
  };
  return { blocks, state, found, errors, check, rely: (...b: BlockRef[]) => stored.push(...b), stored: () => stored };
}

test("blocks all still the chain's: only the highest is kept, and nothing is reported", async () => {
  const s = setup();
  s.rely(ref(1), ref(3), ref(2));
  await s.check();
  assert.deepEqual(s.stored(), [ref(3)]);
  assert.deepEqual(s.found, []);
});

test("a block gone or replaced is reported with the blocks of the same read still there, and all are forgotten after", async () => {
  const s = setup();
  s.rely(ref(2), ref(3), ref(4));
  s.blocks.set(3n, hash(3, 1)); // another block at height 3
  s.blocks.delete(4n); // the node is shorter now
  await s.check();
  assert.deepEqual(s.found, [{ lost: [ref(3), ref(4)], kept: [ref(2)] }]);
  assert.deepEqual(s.stored(), []);
});

test("one read per height, and at most one check per interval", async () => {
  const s = setup();
  s.rely(ref(2), ref(2, 7), ref(3));
  s.blocks.set(2n, hash(2, 7));
  await s.check();
  assert.deepEqual([...s.state.reads].sort(), [2n, 3n]);
  s.rely(ref(4));
  await s.check(500);
  assert.equal(s.state.reads.length, 2, "not checked again within the interval");
  assert.deepEqual(s.found, [{ lost: [ref(2)], kept: [ref(2, 7), ref(3)] }]);
});

test("a node that does not answer changes nothing: the blocks stay for the next check", async () => {
  const s = setup();
  s.rely(ref(1), ref(2));
  s.state.down = true;
  await s.check();
  assert.equal(s.errors.length, 1);
  assert.deepEqual(s.stored(), [ref(1), ref(2)]);
  s.state.down = false;
  await s.check();
  assert.deepEqual(s.stored(), [ref(2)]);
});

test("lostAmong compares hashes whatever their case", async () => {
  const blocks = new Map<bigint, Hex>([[11n, hash(11)]]);
  const chain = fakeChain(blocks, { down: false, reads: [] });
  const upper = { number: 11n, hash: hash(11).toUpperCase().replace("0X", "0x") as Hex };
  assert.deepEqual(await lostAmong(chain, [upper]), { lost: [], kept: [upper] });
});
