import { test } from "node:test";
import assert from "node:assert/strict";
import { answerCost, leaseRecordSchemas, types } from "../src/index.ts";

test("every lease record's wire schema has exactly its EIP-712 fields, in signing order", () => {
  for (const [type, schema] of Object.entries(leaseRecordSchemas)) {
    assert.deepEqual(
      Object.keys(schema.shape),
      types[type as keyof typeof types].map((f) => f.name),
      type,
    );
  }
});

test("an answer's cost rounds up to a whole base unit and grows with every token", () => {
  const prices = { inputPricePer1k: 1n, outputPricePer1k: 3n };
  assert.equal(answerCost(prices, 0, 0), 0n);
  assert.equal(answerCost(prices, 1, 0), 1n);
  assert.equal(answerCost(prices, 1000, 1000), 4000n / 1000n);
  assert.equal(answerCost(prices, 1001, 1000), 5n);
});
