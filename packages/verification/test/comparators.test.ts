import { test } from "node:test";
import assert from "node:assert/strict";
import { Comparator } from "@lily/protocol";
import { comparatorFor, cosineSimilarity, flattenNumbers, type ComparatorConfig, type ResultFiles } from "../src/index.ts";

const enc = new TextEncoder();
function files(entries: Record<string, string | object>): ResultFiles {
  return new Map(Object.entries(entries).map(([name, v]) => [name, enc.encode(typeof v === "string" ? v : JSON.stringify(v))]));
}

const exact: ComparatorConfig = { kind: "exact" };
const tol: ComparatorConfig = { kind: "tolerance", epsilon: 0.01, files: ["scores.json"] };
const sim: ComparatorConfig = { kind: "similarity", threshold: 0.95, files: ["embedding.json"] };

const cases: { name: string; config: ComparatorConfig; reference: ResultFiles; candidate: ResultFiles; equal: boolean; detail?: RegExp }[] = [
  // exact
  { name: "identical files", config: exact, reference: files({ stdout: "moo\n" }), candidate: files({ stdout: "moo\n" }), equal: true },
  {
    name: "stderr differs only",
    config: exact,
    reference: files({ stdout: "moo", stderr: "took 3ms" }),
    candidate: files({ stdout: "moo", stderr: "took 9ms" }),
    equal: true,
  },
  { name: "stderr missing on one side", config: exact, reference: files({ stdout: "moo", stderr: "" }), candidate: files({ stdout: "moo" }), equal: true },
  {
    name: "one byte differs",
    config: exact,
    reference: files({ stdout: "moo" }),
    candidate: files({ stdout: "mOo" }),
    equal: false,
    detail: /stdout: bytes differ/,
  },
  {
    name: "a file missing from the provider",
    config: exact,
    reference: files({ stdout: "", "out.txt": "x" }),
    candidate: files({ stdout: "" }),
    equal: false,
    detail: /out\.txt: missing from the provider/,
  },
  {
    name: "an extra file from the provider",
    config: exact,
    reference: files({ stdout: "" }),
    candidate: files({ stdout: "", "extra.txt": "x" }),
    equal: false,
    detail: /extra\.txt: in the provider's result but not/,
  },
  { name: "both empty", config: exact, reference: files({}), candidate: files({}), equal: true },
  // tolerance
  {
    name: "numbers within epsilon",
    config: tol,
    reference: files({ stdout: "ok", "scores.json": { a: [0.5, 1.2], b: "x" } }),
    candidate: files({ stdout: "ok", "scores.json": { b: "x", a: [0.505, 1.195] } }),
    equal: true,
  },
  {
    name: "a number exactly epsilon apart",
    config: { kind: "tolerance", epsilon: 0.5, files: ["s.json"] },
    reference: files({ "s.json": [1] }),
    candidate: files({ "s.json": [1.5] }),
    equal: true,
  },
  {
    name: "a number off by more than epsilon",
    config: tol,
    reference: files({ "scores.json": { a: [0.5, 1.2] } }),
    candidate: files({ "scores.json": { a: [0.5, 1.25] } }),
    equal: false,
    detail: /scores\.json: \$\.a\[1\]: .* exceeds epsilon 0\.01/,
  },
  {
    name: "an overflow to Infinity against a number",
    config: tol,
    reference: files({ "scores.json": "[1e400]" }),
    candidate: files({ "scores.json": "[1]" }),
    equal: false,
    detail: /exceeds epsilon/,
  },
  {
    name: "NaN written by the provider (not JSON)",
    config: tol,
    reference: files({ "scores.json": "[1]" }),
    candidate: files({ "scores.json": "[NaN]" }),
    equal: false,
    detail: /provider's file is not JSON/,
  },
  {
    name: "NaN on both sides, same bytes",
    config: tol,
    reference: files({ "scores.json": "[NaN]" }),
    candidate: files({ "scores.json": "[NaN]" }),
    equal: true,
  },
  {
    name: "the judged file missing from the provider",
    config: tol,
    reference: files({ "scores.json": [1] }),
    candidate: files({}),
    equal: false,
    detail: /scores\.json: missing/,
  },
  { name: "the judged file absent from both", config: tol, reference: files({ stdout: "" }), candidate: files({ stdout: "" }), equal: true },
  {
    name: "arrays of different length",
    config: tol,
    reference: files({ "scores.json": [1, 2] }),
    candidate: files({ "scores.json": [1, 2, 3] }),
    equal: false,
    detail: /2 items vs 3/,
  },
  {
    name: "different keys",
    config: tol,
    reference: files({ "scores.json": { a: 1 } }),
    candidate: files({ "scores.json": { b: 1 } }),
    equal: false,
    detail: /keys differ/,
  },
  {
    name: "a number where a string was",
    config: tol,
    reference: files({ "scores.json": { a: "1" } }),
    candidate: files({ "scores.json": { a: 1 } }),
    equal: false,
    detail: /string vs number/,
  },
  {
    name: "a label that differs",
    config: tol,
    reference: files({ "scores.json": { label: "cat" } }),
    candidate: files({ "scores.json": { label: "dog" } }),
    equal: false,
    detail: /"cat" vs "dog"/,
  },
  {
    name: "an unjudged file that differs",
    config: tol,
    reference: files({ stdout: "a", "scores.json": [1] }),
    candidate: files({ stdout: "b", "scores.json": [1] }),
    equal: false,
    detail: /stdout: bytes differ/,
  },
  // similarity: reference [1, 0]; [1, 0.32] has cosine 0.9524 (above 0.95), [1, 0.33] 0.9496 (below)
  {
    name: "cosine just above the threshold",
    config: sim,
    reference: files({ "embedding.json": [1, 0] }),
    candidate: files({ "embedding.json": [1, 0.32] }),
    equal: true,
  },
  {
    name: "cosine just below the threshold",
    config: sim,
    reference: files({ "embedding.json": [1, 0] }),
    candidate: files({ "embedding.json": [1, 0.33] }),
    equal: false,
    detail: /cosine similarity 0\.949.* below threshold 0\.95/,
  },
  {
    name: "the same direction at another scale",
    config: sim,
    reference: files({ "embedding.json": { v: [0.1, 0.2, 0.3] } }),
    candidate: files({ "embedding.json": { v: [1, 2, 3] } }),
    equal: true,
  },
  {
    name: "vectors of different length",
    config: sim,
    reference: files({ "embedding.json": [1, 0] }),
    candidate: files({ "embedding.json": [1, 0, 0] }),
    equal: false,
    detail: /vectors of 2 and 3 numbers/,
  },
  {
    name: "a zero vector against a non-zero one",
    config: sim,
    reference: files({ "embedding.json": [1, 2] }),
    candidate: files({ "embedding.json": [0, 0] }),
    equal: false,
    detail: /cosine similarity 0 below/,
  },
  {
    name: "an overflowed component",
    config: sim,
    reference: files({ "embedding.json": [1, 2] }),
    candidate: files({ "embedding.json": "[1e400, 2]" }),
    equal: false,
    detail: /NaN below/,
  },
  {
    name: "the embedding missing from the provider",
    config: sim,
    reference: files({ "embedding.json": [1] }),
    candidate: files({}),
    equal: false,
    detail: /missing/,
  },
  {
    name: "no numbers, same record",
    config: sim,
    reference: files({ "embedding.json": { label: "cat" } }),
    candidate: files({ "embedding.json": { label: "cat" } }),
    equal: true,
  },
  {
    name: "no numbers, different record",
    config: sim,
    reference: files({ "embedding.json": { label: "cat" } }),
    candidate: files({ "embedding.json": { label: "dog" } }),
    equal: false,
    detail: /holds no numbers and differs/,
  },
];

for (const c of cases) {
  test(`${c.config.kind}: ${c.name} -> ${c.equal ? "equal" : "different"}`, () => {
    const r = comparatorFor(c.config).compare(c.reference, c.candidate);
    assert.equal(r.equal, c.equal, r.detail);
    if (c.detail) assert.match(r.detail, c.detail);
  });
}

test("comparatorFor carries the id the contracts record, exact by default", () => {
  assert.equal(comparatorFor().id, Comparator.exact);
  assert.equal(comparatorFor(tol).id, Comparator.tolerance);
  assert.equal(comparatorFor(sim).id, Comparator.similarity);
  assert.equal(comparatorFor(sim).name, "similarity");
});

test("flattening numbers ignores key order and skips non-numbers", () => {
  assert.deepEqual(flattenNumbers({ b: [3, "x", { z: 5, y: 4 }], a: 1, c: null }), [1, 3, 4, 5]);
});

test("identical vectors have similarity exactly 1, opposite ones -1", () => {
  assert.equal(cosineSimilarity([0.1, 0.7, 0.3], [0.1, 0.7, 0.3]), 1);
  assert.ok(Math.abs(cosineSimilarity([1, 2], [-1, -2]) + 1) < 1e-12);
});
