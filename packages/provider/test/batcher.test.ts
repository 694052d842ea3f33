// The batcher alone: what goes out together, what waits, and how one item's failure stays its
// own. `send` is the batcher's injected call; here it records what it was given.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { setImmediate as nextTurn } from "node:timers/promises";
import { Batcher, type ItemOutcome } from "../src/batch/batcher.ts";

/** A send that answers each item with item*10, or fails items listed in `refuse`; its calls can be held open. */
function recorder(refuse: number[] = []) {
  const calls: number[][] = [];
  let hold: Promise<void> | undefined;
  let release = () => {};
  return {
    calls,
    holdNext() {
      hold = new Promise((r) => (release = r));
    },
    release: () => release(),
    send: async (items: number[]): Promise<ItemOutcome<number>[]> => {
      calls.push(items);
      if (hold) await hold;
      return items.map((i) => (refuse.includes(i) ? { ok: false, error: new Error(`item ${i} refused`) } : { ok: true, value: i * 10 }));
    },
  };
}

describe("Batcher", () => {
  test("items submitted in the same turn go out in one call, each answered with its own value", async () => {
    const r = recorder();
    const b = new Batcher({ maxItems: 100, maxInFlight: 1 }, r.send);
    const answers = await Promise.all([1, 2, 3].map((i) => b.submit(i)));
    assert.deepEqual(r.calls, [[1, 2, 3]]);
    assert.deepEqual(answers, [10, 20, 30]);
  });

  test("a lone item goes out on the next turn, without waiting for company", async () => {
    const r = recorder();
    const b = new Batcher({ maxItems: 100, maxInFlight: 1 }, r.send);
    const answer = b.submit(7);
    assert.deepEqual(r.calls, [], "nothing is sent within the submitting turn");
    await nextTurn();
    assert.deepEqual(r.calls, [[7]]);
    assert.equal(await answer, 70);
  });

  test("items that arrive while the calls in flight are all busy wait, then go out together", async () => {
    const r = recorder();
    const b = new Batcher({ maxItems: 100, maxInFlight: 1 }, r.send);
    r.holdNext();
    const first = b.submit(1);
    await nextTurn();
    const later = [2, 3, 4].map((i) => b.submit(i));
    await nextTurn();
    assert.deepEqual(r.calls, [[1]], "the waiting items are not sent while the first call is in flight");
    assert.equal(b.waiting, 3);
    r.release();
    assert.equal(await first, 10);
    assert.deepEqual(await Promise.all(later), [20, 30, 40]);
    assert.deepEqual(r.calls, [[1], [2, 3, 4]]);
  });

  test("a second call may go while one is in flight when maxInFlight allows it", async () => {
    const r = recorder();
    const b = new Batcher({ maxItems: 100, maxInFlight: 2 }, r.send);
    r.holdNext();
    const first = b.submit(1);
    await nextTurn();
    const second = b.submit(2);
    await nextTurn();
    assert.deepEqual(r.calls, [[1], [2]]);
    r.release();
    assert.deepEqual(await Promise.all([first, second]), [10, 20]);
  });

  test("more than maxItems split into full calls, a full batch going even while another is in flight", async () => {
    const r = recorder();
    const b = new Batcher({ maxItems: 3, maxInFlight: 1 }, r.send);
    const answers = await Promise.all([1, 2, 3, 4, 5, 6, 7].map((i) => b.submit(i)));
    assert.deepEqual(answers, [10, 20, 30, 40, 50, 60, 70]);
    assert.deepEqual(r.calls, [[1, 2, 3], [4, 5, 6], [7]]);
    assert.deepEqual(b.calls, [3, 3, 1]);
  });

  test("an item the call refuses fails alone; the others of its call succeed", async () => {
    const r = recorder([2]);
    const b = new Batcher({ maxItems: 100, maxInFlight: 1 }, r.send);
    const outcomes = await Promise.allSettled([1, 2, 3].map((i) => b.submit(i)));
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ["fulfilled", "rejected", "fulfilled"],
    );
    assert.match(String((outcomes[1] as PromiseRejectedResult).reason), /item 2 refused/);
  });

  test("a call that throws fails every item it carried, and the next call goes on", async () => {
    let fail = true;
    const b = new Batcher<number, number>({ maxItems: 100, maxInFlight: 1 }, async (items) => {
      if (fail) {
        fail = false;
        throw new Error("the node did not answer");
      }
      return items.map((i) => ({ ok: true, value: i }));
    });
    const failed = await Promise.allSettled([b.submit(1), b.submit(2)]);
    assert.deepEqual(
      failed.map((o) => o.status),
      ["rejected", "rejected"],
    );
    assert.equal(await b.submit(3), 3);
  });

  test("a call answering fewer outcomes than items fails the unanswered ones rather than leaving them hanging", async () => {
    const b = new Batcher<number, number>({ maxItems: 100, maxInFlight: 1 }, async (items) => [{ ok: true, value: items[0]! }]);
    const outcomes = await Promise.allSettled([b.submit(1), b.submit(2)]);
    assert.equal(outcomes[0]!.status, "fulfilled");
    assert.equal(outcomes[1]!.status, "rejected");
  });

  test("limits below 1 are refused", () => {
    assert.throws(() => new Batcher({ maxItems: 0, maxInFlight: 1 }, async () => []), RangeError);
    assert.throws(() => new Batcher({ maxItems: 1, maxInFlight: 0 }, async () => []), RangeError);
  });
});
