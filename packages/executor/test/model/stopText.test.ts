import { test } from "node:test";
import assert from "node:assert/strict";
import { createStopText } from "../../src/model/stopText.ts";

/** Feed pieces; return what was passed on, piece by piece, and whether a stop ended it. */
function run(stops: string[], pieces: string[]) {
  const s = createStopText(stops);
  const passed: string[] = [];
  for (const p of pieces) {
    const r = s.push(p);
    passed.push(r.emit);
    if (r.stopped) return { passed, stopped: true, rest: "" };
  }
  return { passed, stopped: false, rest: s.flush() };
}

for (const [what, stops, pieces, passed, stopped, rest] of [
  ["no stop sequences pass every piece at once", [], ["a", "b", "c"], ["a", "b", "c"], false, ""],
  ["a stop inside one piece cuts the answer before it", ["END"], ["abcENDdef"], ["abc"], true, ""],
  ["a stop split over pieces is held back, then cut", ["END"], ["ab", "cE", "N", "Dxyz"], ["ab", "c", "", ""], true, ""],
  ["a false start is released once it cannot be a stop", ["END"], ["aE", "Nx"], ["a", "ENx"], false, ""],
  ["a tail still possibly a stop is flushed when the answer ends otherwise", ["END"], ["abE"], ["ab"], false, "E"],
  ["the earliest of several stops wins", ["zz", "b"], ["azzb"], ["a"], true, ""],
] as const) {
  test(`stop text: ${what}`, () => {
    const out = run([...stops], [...pieces]);
    assert.deepEqual(out.passed, passed);
    assert.equal(out.stopped, stopped);
    assert.equal(out.rest, rest);
  });
}
