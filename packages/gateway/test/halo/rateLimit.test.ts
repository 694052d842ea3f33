import { test } from "node:test";
import assert from "node:assert/strict";
import { createRateLimiter } from "../../src/halo/index.ts";
import { T0, throwsCode } from "./support.ts";

test("a key may make rpm requests at once, then is RATE_LIMITED with a whole number of seconds to wait", () => {
  const limiter = createRateLimiter();
  for (let i = 0; i < 3; i++) limiter.checkRate("k", 3, T0);
  const e = throwsCode(() => limiter.checkRate("k", 3, T0), "RATE_LIMITED");
  assert.equal(e.details.retryAfterSeconds, 20);
  assert.equal(e.details.rpm, 3);
});

test("waiting the retry-after it was given lets the next request through, and a moment less does not", () => {
  const limiter = createRateLimiter();
  for (let i = 0; i < 7; i++) limiter.checkRate("k", 7, T0);
  const { retryAfterSeconds } = throwsCode(() => limiter.checkRate("k", 7, T0 + 1234), "RATE_LIMITED").details as { retryAfterSeconds: number };
  assert.ok(Number.isInteger(retryAfterSeconds) && retryAfterSeconds >= 1);
  throwsCode(() => limiter.checkRate("k", 7, T0 + 1234 + retryAfterSeconds * 1000 - 1000), "RATE_LIMITED");
  limiter.checkRate("k", 7, T0 + 1234 + retryAfterSeconds * 1000);
});

test("retry-after is at least one second even when the wait is shorter", () => {
  const limiter = createRateLimiter();
  for (let i = 0; i < 600; i++) limiter.checkRate("k", 600, T0);
  assert.equal(throwsCode(() => limiter.checkRate("k", 600, T0), "RATE_LIMITED").details.retryAfterSeconds, 1);
});

test("over a long run a key gets its rpm per minute and no more", () => {
  const limiter = createRateLimiter();
  let allowed = 0;
  // One attempt every 100 ms for ten minutes.
  for (let t = 0; t < 10 * 60_000; t += 100) {
    try {
      limiter.checkRate("k", 30, T0 + t);
      allowed++;
    } catch {
      // refused attempts are what is being counted against
    }
  }
  // A full bucket's burst of 30, then one every 2 s over the 599.9 s that follow.
  const most = 30 + Math.floor(599.9 / 2);
  assert.ok(allowed <= most && allowed >= most - 1, `allowed ${allowed}, at most ${most}`);
});

test("one key's requests do not use another key's allowance", () => {
  const limiter = createRateLimiter();
  limiter.checkRate("a", 1, T0);
  throwsCode(() => limiter.checkRate("a", 1, T0), "RATE_LIMITED");
  limiter.checkRate("b", 1, T0);
});
