// The news a provider's pass brings names its deals: a busy deal passes again only for news about it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PassNews } from "../src/passNews.ts";

test("news about a deal concerns that deal alone, in any case of its id; news naming none concerns every deal", () => {
  const news = new PassNews();
  news.note("0xAbC");
  const first = news.take();
  assert.deepEqual([first("0xabc"), first("0xABC"), first("0xdef")], [true, true, false]);
  news.note();
  news.note("0xdef");
  const second = news.take();
  assert.deepEqual([second("0xabc"), second("0xdef"), second("0x123")], [true, true, true]);
});

test("a pass takes the news so far: news that comes during it is for the next pass", () => {
  const news = new PassNews();
  news.note();
  const pass = news.take();
  news.note("0x01");
  assert.equal(pass("0x02"), true, "the pass that took news for every deal keeps it");
  const next = news.take();
  assert.deepEqual([next("0x01"), next("0x02")], [true, false]);
  assert.equal(news.take()("0x01"), false, "nothing left after it was taken");
});
