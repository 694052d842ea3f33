// The news a provider's pass brings names its deals: a busy deal passes again only for news about it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PassNews } from "../src/passNews.ts";

test("news about a deal concerns that deal alone, in any case of its id; news naming none concerns every deal", () => {
  const news = new PassNews();
  news.note("0xAbC");
  const first = news.take();
  assert.deepEqual([first.concerns("0xabc"), first.concerns("0xABC"), first.concerns("0xdef")], [true, true, false]);
  assert.deepEqual([first.all, [...first.named]], [false, ["0xabc"]]);
  news.note();
  news.note("0xdef");
  const second = news.take();
  assert.deepEqual([second.concerns("0xabc"), second.concerns("0xdef"), second.concerns("0x123")], [true, true, true]);
  assert.deepEqual([second.all, [...second.named]], [true, ["0xdef"]]);
});

test("a pass takes the news so far: news that comes during it is for the next pass", () => {
  const news = new PassNews();
  news.note();
  const pass = news.take();
  news.note("0x01");
  assert.equal(pass.concerns("0x02"), true, "the pass that took news for every deal keeps it");
  const next = news.take();
  assert.deepEqual([next.concerns("0x01"), next.concerns("0x02")], [true, false]);
  const none = news.take();
  assert.deepEqual([none.concerns("0x01"), none.all, none.named.size], [false, false, 0], "nothing left after it was taken");
});
