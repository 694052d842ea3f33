import { test } from "node:test";
import assert from "node:assert/strict";
import { cidForBytes, cidForRecord, cidDigest, cidFromDigest, verifyCid, parseCid, isLilyError } from "../src/index.ts";

test("a raw CID is CIDv1 sha-256 and verifies its bytes", () => {
  const bytes = new TextEncoder().encode("hello");
  const cid = cidForBytes(bytes);
  assert.match(cid, /^bafkrei/);
  assert.equal(verifyCid(cid, bytes), true);
  assert.equal(verifyCid(cid, new TextEncoder().encode("hellO")), false);
});

test("records hash canonically regardless of key order", () => {
  assert.equal(cidForRecord({ a: 1, b: "x" }).cid, cidForRecord({ b: "x", a: 1 }).cid);
});

test("a CID round-trips through its on-chain digest", () => {
  const { cid } = cidForRecord({ files: {} });
  assert.equal(cidFromDigest(cidDigest(cid)), cid);
});

test("a malformed CID is rejected naming the field", () => {
  assert.throws(
    () => parseCid("not-a-cid", "module"),
    (e) => isLilyError(e, "INVALID_INPUT") && e.field === "module",
  );
});
