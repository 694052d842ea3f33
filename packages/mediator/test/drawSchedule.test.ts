import { test } from "node:test";
import assert from "node:assert/strict";
import { nextDrawChange, nextTurnAt } from "../src/drawSchedule.ts";

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

// The turn passes every MEDIATOR_TURN seconds from the challenge, whatever the blocks do.
const turnCases: { now: number; next: number; why: string }[] = [
  { now: 1_000, next: 1_300, why: "at the challenge, the first turn ends one turn later" },
  { now: 1_299, next: 1_300, why: "the last second of the first turn" },
  { now: 1_300, next: 1_600, why: "the second turn has begun" },
  { now: 999, next: 1_300, why: "a chain clock behind the challenge counts as the first turn" },
];

for (const c of turnCases) {
  test(`a mediation begun at 1000 with 300-second turns, seen at ${c.now}, passes the turn on at ${c.next}: ${c.why}`, () => {
    assert.equal(nextTurnAt(1_000, 300, c.now), c.next);
  });
}
