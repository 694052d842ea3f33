// wireJson writes in one pass the text the servers, clients and stores used to get from
// JSON.stringify(toWire(value)): the same bytes for every kind of value a record can hold.
import { test } from "node:test";
import assert from "node:assert/strict";
import { LilyError, toWire, wireJson } from "../src/index.ts";

test("wireJson writes exactly what JSON.stringify(toWire(value)) wrote, indented or not", () => {
  const values: unknown[] = [
    { price: 10n ** 30n, nonce: 0n, negative: -5n, nested: [{ a: 1n, b: undefined, c: null }], s: 'é \u2028 \ud800 "q"' },
    [1n, undefined, () => 1, Symbol("x"), Number.NaN, -0, 1e21, 1.5],
    { error: new LilyError({ code: "INVALID_INPUT", field: "maxPrice", message: "too low", details: { balance: 3n } }).toJSON() },
    { at: new Date(0), map: new Map([["k", 1]]), __proto__key: { ["__proto__"]: 1 } },
    "text",
    7n,
    null,
  ];
  for (const v of values) {
    assert.equal(wireJson(v), JSON.stringify(toWire(v)));
    assert.equal(wireJson(v, 2), JSON.stringify(toWire(v), null, 2));
  }
  assert.equal(wireJson({ amount: 12n }), '{"amount":"12"}');
});
