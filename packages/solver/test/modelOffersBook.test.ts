// The model offer rules without a server: the pure admission table, and the SQLite book's expiry
// and room-making, with the clock passed in.
import { test } from "node:test";
import assert from "node:assert/strict";
import { privateKeyToAccount, generatePrivateKey } from "viem/accounts";
import type { Hex } from "viem";
import type { ModelOffer } from "@lily/protocol";
import { openDatabase } from "@lily/node-kit";
import { orderBookMigrations } from "../src/orderBook.ts";
import { admitModelOffer } from "../src/modelOffers/admitModelOffer.ts";
import { ModelOfferBook } from "../src/modelOffers/modelOfferBook.ts";
import { cid, fails } from "./harness.ts";

const NOW = 1_700_000_000;
const provider = privateKeyToAccount(generatePrivateKey()).address;
const offer = (o: Partial<ModelOffer> = {}): ModelOffer => ({
  provider,
  model: cid("m"),
  inputPricePer1k: 1n,
  outputPricePer1k: 2n,
  collateral: 3n,
  endpoint: "http://127.0.0.1:1",
  mediators: [],
  expiresAt: BigInt(NOW + 60),
  nonce: 5n,
  ...o,
});
const id = (n: number) => `0x${n.toString(16).padStart(64, "0")}` as Hex;
const caps = { maxModelOfferTtlSeconds: 3600 };

test("admission of a model offer, case by case", () => {
  const cases: { name: string; offer: ModelOffer; held?: { id: Hex; nonce: bigint }; want: string }[] = [
    { name: "first offer for the pair", offer: offer(), want: "new" },
    { name: "the very offer held", offer: offer(), held: { id: id(1), nonce: 5n }, want: "known" },
    { name: "a larger nonce", offer: offer({ nonce: 6n }), held: { id: id(2), nonce: 5n }, want: "replaces" },
    { name: "the same nonce, other terms", offer: offer(), held: { id: id(2), nonce: 5n }, want: "CONFLICT offer.nonce" },
    { name: "a smaller nonce", offer: offer({ nonce: 4n }), held: { id: id(2), nonce: 5n }, want: "CONFLICT offer.nonce" },
    { name: "expiring now", offer: offer({ expiresAt: BigInt(NOW) }), want: "INVALID_INPUT offer.expiresAt" },
    { name: "expiring past the ttl", offer: offer({ expiresAt: BigInt(NOW + 3601) }), want: "INVALID_INPUT offer.expiresAt" },
    { name: "expiring at the ttl", offer: offer({ expiresAt: BigInt(NOW + 3600) }), want: "new" },
  ];
  for (const c of cases) {
    let got: string;
    try {
      got = admitModelOffer(c.offer, id(1), c.held, caps, NOW).kind;
    } catch (e) {
      const err = e as { code: string; field: string };
      got = `${err.code} ${err.field}`;
    }
    assert.equal(got, c.want, c.name);
  }
});

test("the book lists only live offers, and makes room by forgetting a provider's expired ones first", () => {
  const db = openDatabase(":memory:", [...orderBookMigrations]);
  const book = new ModelOfferBook(db);
  const put = (n: number, o: Partial<ModelOffer>, now = NOW) =>
    book.put({ id: id(n), offer: offer(o), signature: "0x", postedAt: n }, { maxPerProvider: 2, now });
  put(1, { model: cid("a"), expiresAt: BigInt(NOW + 10) });
  put(2, { model: cid("b"), expiresAt: BigInt(NOW + 100) });
  assert.deepEqual(
    book.list(undefined, NOW).map((r) => r.id),
    [id(1), id(2)],
  );
  assert.deepEqual(
    book.list(undefined, NOW + 10).map((r) => r.id),
    [id(2)],
  );
  // Full while both live...
  assert.throws(() => put(3, { model: cid("c") }, NOW), fails("CONFLICT", "offer.provider"));
  // ...and once "a" has expired, "c" takes its place (and "a"'s nonce is forgotten).
  put(3, { model: cid("c") }, NOW + 10);
  assert.equal(book.held(provider, cid("a")), undefined);
  assert.deepEqual(book.held(provider, cid("c")), { id: id(3), nonce: 5n });
  db.close();
});
