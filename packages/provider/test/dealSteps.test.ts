// One step per deal at a time, and news that arrives while a deal's step runs is not lost: a pass
// with news that finds the deal busy asks for one more pass when the step ends; a pass without
// news does not, so busy deals cannot keep each other passing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DealSteps } from "../src/dealSteps.ts";

/** A step that runs until released. */
function held() {
  let release!: () => void;
  const done = new Promise<void>((r) => (release = r));
  return { step: () => done, release };
}

const settle = () => new Promise((r) => setImmediate(r));

/** Whether a new step for the deal is started (its last one has ended). */
async function runsNow(steps: DealSteps, id: string): Promise<boolean> {
  let ran = false;
  steps.handle(
    id,
    async () => {
      ran = true;
    },
    false,
  );
  await settle();
  return ran;
}

test("a deal's second step is not started while its first runs", async () => {
  let passes = 0;
  const steps = new DealSteps({ onError: () => assert.fail(), passAgain: () => passes++ });
  const first = held();
  let secondRan = false;
  steps.handle("0xAA", first.step, false);
  steps.handle(
    "0xaa",
    async () => {
      secondRan = true;
    },
    false,
  );
  first.release();
  await settle();
  assert.equal(secondRan, false);
  assert.equal(passes, 0, "a pass without news asks for no other pass");
});

test("news that finds the deal busy brings one more pass when the step ends, once", async () => {
  let passes = 0;
  const steps = new DealSteps({ onError: () => assert.fail(), passAgain: () => passes++ });
  const first = held();
  steps.handle("0xaa", first.step, false);
  steps.handle("0xaa", async () => {}, true);
  steps.handle("0xaa", async () => {}, true);
  await settle();
  assert.equal(passes, 0, "not while the step still runs");
  first.release();
  await settle();
  assert.equal(passes, 1);
  // The follow-up pass finds the deal free and runs its step; nothing more is asked.
  assert.equal(await runsNow(steps, "0xaa"), true);
  assert.equal(passes, 1);
});

test("two busy deals cannot keep each other passing", async () => {
  let passes = 0;
  const a = held();
  const b = held();
  const steps = new DealSteps({ onError: () => assert.fail(), passAgain: () => passes++ });
  steps.handle("0xa", a.step, false);
  steps.handle("0xb", b.step, false);
  // A news pass marks both; each end asks for one pass, and those passes (no news) mark nothing.
  steps.handle("0xa", async () => {}, true);
  steps.handle("0xb", async () => {}, true);
  const a2 = held();
  a.release();
  await settle();
  assert.equal(passes, 1);
  steps.handle("0xa", a2.step, false); // the follow-up pass: a runs again, b is still busy
  steps.handle("0xb", async () => {}, false);
  b.release();
  await settle();
  assert.equal(passes, 2);
  steps.handle("0xa", async () => {}, false); // the second follow-up: a busy, no news
  a2.release();
  await settle();
  assert.equal(passes, 2, "no pass without news");
});

test("a failing step is reported, and frees the deal", async () => {
  const errors: unknown[] = [];
  const steps = new DealSteps({ onError: (_id, e) => errors.push(e), passAgain: () => {} });
  steps.handle(
    "0xaa",
    async () => {
      throw new Error("boom");
    },
    false,
  );
  await settle();
  assert.equal(errors.length, 1);
  assert.equal(await runsNow(steps, "0xaa"), true);
  assert.equal(steps.inFlight().length, 0);
});
