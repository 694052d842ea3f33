import { test } from "node:test";
import assert from "node:assert/strict";
import { nextDrawChange } from "../src/drawSchedule.ts";

// The contract seeds the draw with block drawBlock + 1 while its hash is available (chain heads
// drawBlock + 2 .. drawBlock + 257), then with the first block of each later 256-block epoch.
const cases: { drawBlock: number; current: number; next: number; why: string }[] = [
  { drawBlock: 100, current: 100, next: 102, why: "the seed block 101 is not mined yet" },
  { drawBlock: 100, current: 101, next: 102, why: "the seed block is the head: not readable until 102" },
  { drawBlock: 100, current: 102, next: 358, why: "seeded by block 101 until head 357" },
  { drawBlock: 100, current: 357, next: 358, why: "the last head seeded by block 101" },
  { drawBlock: 100, current: 358, next: 614, why: "seeded by block 357 from head 358" },
];

for (const c of cases) {
  test(`a draw from block ${c.drawBlock} seen at head ${c.current} can change at ${c.next}: ${c.why}`, () => {
    assert.equal(nextDrawChange(c.drawBlock, c.current), c.next);
  });
}
