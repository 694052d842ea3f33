// The lost-blocks watch on its own: which settled deals are followed again when a block they relied
// on is gone, which blocks it keeps, and that a node that does not answer changes nothing. The
// chain is a table of block hashes by height; provider.test.ts loses a real anvil's block.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { BlockNotFoundError, type Hex } from "viem";
import type { LilyClient } from "@lily/chain";
import { createLogger } from "@lily/node-kit";
import { NO_MEDIATORS, NO_REPLICAS, Policy, type DealMessage } from "@lily/protocol";
import { ProviderDb, type LocalDeal } from "../src/db.ts";
import { watchLostBlocks } from "../src/lostBlocks.ts";
import { tempDir } from "../../../test/support/tempDir.ts";

const NOW = 1_900_000_000;
const id = (n: number) => `0x${n.toString(16).padStart(64, "0")}` as Hex;
const hash = (n: number, fork = 0) => `0x${(n * 1000 + fork).toString(16).padStart(64, "0")}` as Hex;

function deal(n: number, status: LocalDeal["status"], deadline: number): LocalDeal {
  const terms: DealMessage = {
    jobCreator: "0x00000000000000000000000000000000000000C3",
    provider: "0x00000000000000000000000000000000000000A1",
    jobOffer: id(1000 + n),
    resourceOffer: id(2),
    price: 3n,
    collateral: 5n,
    openBy: BigInt(deadline - 60),
    deadline: BigInt(deadline),
    policy: Policy.trust,
    policyParam: 0n,
    mediationFee: 0n,
    mediators: NO_MEDIATORS,
    replicas: NO_REPLICAS,
    moduleCreator: "0x0000000000000000000000000000000000000000",
    royaltyBps: 0,
  };
  return {
    id: id(n),
    deal: terms,
    module: "bafy-module",
    inputs: "bafy-inputs",
    needs: { cpu: 1, memoryMb: 256, gpu: 0, vramMb: 0 },
    status,
    resultCid: "bafy-result",
  };
}

/** A chain that is a map from height to hash; `down` makes every read fail as an unreachable node does. */
function fakeChain(blocks: Map<bigint, Hex>, state: { down: boolean; reads: number }): LilyClient {
  const publicClient = {
    getBlock: async ({ blockNumber }: { blockNumber: bigint }) => {
      state.reads++;
      if (state.down) throw new Error("connect ECONNREFUSED");
      const h = blocks.get(blockNumber);
      if (!h) throw new BlockNotFoundError({ blockNumber });
      return { number: blockNumber, hash: h };
    },
  };
  return { publicClient } as unknown as LilyClient;
}

function setup(t: { after: (f: () => void) => void }) {
  const db = new ProviderDb(join(tempDir("lily-lost-blocks-"), "provider.db"));
  t.after(() => db.close());
  const blocks = new Map<bigint, Hex>([1n, 2n, 3n, 4n].map((n) => [n, hash(Number(n))]));
  const state = { down: false, reads: 0 };
  let clock = NOW * 1000;
  const lost: (readonly string[])[] = [];
  const watch = watchLostBlocks({
    db,
    chain: fakeChain(blocks, state),
    logger: createLogger({ module: "provider", level: "error" }),
    clock: () => clock,
    onLost: (ids) => lost.push(ids),
  });
  /** A check after `ms` (by default the interval) since the last. */
  const check = async (ms = 1000) => {
    clock += ms;
    watch.check();
    await watch.running;
  };
  return { db, blocks, state, lost, check };
}

test("blocks still on the chain: only the highest is kept, and no deal is followed again", async (t) => {
  const { db, lost, check } = setup(t);
  db.put(deal(1, "settled", NOW + 100));
  for (const n of [1, 3, 2]) db.blocks.relyOn({ number: BigInt(n), hash: hash(n) });
  await check();
  assert.deepEqual(db.blocks.relied(), [{ number: 3n, hash: hash(3) }]);
  assert.deepEqual(lost, []);
  assert.equal(db.get(id(1))?.status, "settled");
});

test("a lost block: the settled deals before their deadline are followed again; those past it and other statuses stay as they were", async (t) => {
  const { db, blocks, lost, check } = setup(t);
  db.put(deal(1, "settled", NOW + 100)); // relied on the lost block
  db.put(deal(2, "settled", NOW + 100)); // paid in an earlier block: followed again all the same (the chain says, next pass)
  db.put(deal(3, "settled", NOW - 100)); // past its deadline: nothing can be sent again
  db.put(deal(4, "slashed", NOW + 100));
  db.put(deal(5, "committed", NOW + 100));
  db.blocks.relyOn({ number: 2n, hash: hash(2) });
  db.blocks.relyOn({ number: 4n, hash: hash(4) });
  blocks.set(4n, hash(4, 1)); // the node lost block 4 and mined another at that height

  await check();
  assert.deepEqual(
    lost.map((ids) => [...ids].sort()),
    [[id(1), id(2)]],
  );
  assert.deepEqual(
    [1, 2, 3, 4, 5].map((n) => db.get(id(n))?.status),
    ["committed", "committed", "settled", "slashed", "committed"],
  );
  assert.deepEqual(db.blocks.relied(), [], "dealt with: the deals followed again write down what they rely on next");
});

test("a lost head (the node restarted below it) counts as lost", async (t) => {
  const { db, blocks, lost, check } = setup(t);
  db.put(deal(1, "settled", NOW + 100));
  db.blocks.relyOn({ number: 4n, hash: hash(4) });
  blocks.delete(4n);
  await check();
  assert.equal(lost.length, 1);
  assert.equal(db.get(id(1))?.status, "committed");
});

test("a node that does not answer changes nothing: the blocks are checked again later", async (t) => {
  const { db, state, lost, check } = setup(t);
  db.put(deal(1, "settled", NOW + 100));
  db.blocks.relyOn({ number: 2n, hash: hash(2) });
  db.blocks.relyOn({ number: 3n, hash: hash(9) });
  state.down = true;
  await check();
  assert.deepEqual(lost, []);
  assert.equal(db.get(id(1))?.status, "settled");
  assert.equal(db.blocks.relied().length, 2);
  state.down = false;
  await check();
  assert.equal(db.get(id(1))?.status, "committed", "block 3 is not the one the record relied on");
});

test("nothing written, nothing read; and at most one check per interval", async (t) => {
  const { db, state, check } = setup(t);
  await check();
  assert.equal(state.reads, 0);
  db.blocks.relyOn({ number: 1n, hash: hash(1) });
  await check();
  assert.equal(state.reads, 1);
  await check(999);
  assert.equal(state.reads, 1, "within the interval: not read again");
  await check(1);
  assert.equal(state.reads, 2);
});
