// The blocks a provider fetched lately: a module the next proposal names again comes from memory,
// not the store; what is kept is bounded by bytes, least recently used out first; and nobody
// holding a block it was handed can change or detach the copy kept.
import { test } from "node:test";
import assert from "node:assert/strict";
import { cidForBytes, decodeRecord, type Hex32 } from "@lily/protocol";
import type { JobSource } from "@lily/executor";
import { JobCache } from "../src/jobCache.ts";
import { RecentBlocks } from "../src/recentBlocks.ts";
import { tempDir } from "../../../test/support/tempDir.ts";

/** A store that counts the blocks it is asked for. */
function countingStore(blocks: Uint8Array[]): JobSource & { asked: string[] } {
  const byCid = new Map(blocks.map((b) => [cidForBytes(b), b]));
  const asked: string[] = [];
  const getBytes = async (cid: string) => {
    asked.push(cid);
    const b = byCid.get(cid);
    if (!b) throw new Error(`no block ${cid}`);
    return b.slice();
  };
  return { asked, getBytes, getRecord: async (cid) => decodeRecord(await getBytes(cid)) };
}

const deal = (n: number): Hex32 => `0x${n.toString(16).padStart(64, "0")}`;

test("a module fetched to check one proposal is not fetched from the store again for the next", async () => {
  const wasm = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]);
  const store = countingStore([wasm]);
  const cache = new JobCache(tempDir("lily-recent-blocks-"));
  const first = await cache.source(deal(1), store, { recent: true }).getBytes(cidForBytes(wasm));
  const second = cache.source(deal(2), store, { recent: true });
  assert.deepEqual(await second.getBytes(cidForBytes(wasm)), wasm);
  assert.equal(store.asked.length, 1);
  // The second deal still records the block as its own, to keep and restore in a dispute.
  assert.deepEqual(second.fetched.get(cidForBytes(wasm)), wasm);
  assert.deepEqual(first, wasm);
});

test("a run reads only its deal's own copy and the store, never another deal's blocks in memory", async () => {
  const inputs = new Uint8Array([1, 2, 3]);
  const store = countingStore([inputs]);
  const cache = new JobCache(tempDir("lily-recent-blocks-"));
  await cache.source(deal(1), store, { recent: true }).getBytes(cidForBytes(inputs));
  await cache.source(deal(2), store).getBytes(cidForBytes(inputs));
  assert.equal(store.asked.length, 2);
});

test("blocks past the byte bound go out least recently used first, and large ones are never kept", () => {
  const recent = new RecentBlocks({ maxBytes: 10, maxBlockBytes: 6 });
  const block = (fill: number, size: number) => new Uint8Array(size).fill(fill);
  recent.put("a", block(1, 4));
  recent.put("b", block(2, 4));
  recent.get("a"); // a is now the most recent
  recent.put("c", block(3, 4)); // 12 bytes: b goes
  recent.put("big", block(4, 7));
  const cases: [string, boolean][] = [
    ["a", true],
    ["b", false],
    ["c", true],
    ["big", false],
  ];
  for (const [cid, kept] of cases) assert.equal(recent.get(cid) !== undefined, kept, cid);
  assert.equal(recent.size(), 8);
});

test("a block handed out can be changed or transferred without touching the one kept", () => {
  const recent = new RecentBlocks();
  const original = new Uint8Array([1, 2, 3]);
  recent.put("x", original);
  original[0] = 9;
  const handed = recent.get("x")!;
  structuredClone(handed.buffer, { transfer: [handed.buffer] }); // detaches it, as a worker transfer does
  assert.equal(handed.byteLength, 0);
  assert.deepEqual(recent.get("x"), new Uint8Array([1, 2, 3]));
});
