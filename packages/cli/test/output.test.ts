import { test } from "node:test";
import assert from "node:assert/strict";
import { LilyError, type ErrorCode } from "@lily/protocol";
import { printError } from "../src/output.ts";
import { captureOutput } from "./captureOutput.ts";

const exitCodes: [ErrorCode, number][] = [
  ["INVALID_INPUT", 2],
  ["UNKNOWN_MODULE", 2],
  ["CONFIG", 3],
  ["UNREACHABLE", 4],
  ["INSUFFICIENT_DEPOSIT", 5],
  ["NO_MATCH", 6],
  ["DEADLINE_PASSED", 7],
  ["EXECUTION_FAILED", 8],
  ["SANDBOX_LIMIT", 8],
  ["CHAIN_REVERT", 1],
  ["INTERNAL", 1],
];

for (const [code, exit] of exitCodes) {
  test(`a ${code} error exits with ${exit}`, () => {
    const { value } = captureOutput(() => printError(new LilyError({ code, message: "something went wrong" })));
    assert.equal(value, exit);
  });
}

test("an error is one line on stderr naming its code, and nothing on stdout", () => {
  const { stdout, stderr } = captureOutput(() =>
    printError(new LilyError({ code: "INVALID_INPUT", field: "--max-price", message: "--max-price: expected an amount" })),
  );
  assert.equal(stderr, "error: --max-price: expected an amount [INVALID_INPUT]\n");
  assert.equal(stdout, "");
});

test("an error with a hint adds one hint line", () => {
  const { stderr } = captureOutput(() =>
    printError(new LilyError({ code: "CONFIG", message: "no network configured", hint: "start one with `npx lily devnet`" })),
  );
  assert.deepEqual(stderr.split("\n"), ["error: no network configured [CONFIG]", "hint: start one with `npx lily devnet`", ""]);
});

test("a message that already names its code is not tagged twice", () => {
  const { stderr } = captureOutput(() => printError(new LilyError({ code: "NO_MATCH", message: "NO_MATCH: nothing fits" })));
  assert.equal(stderr, "error: NO_MATCH: nothing fits\n");
});

test("with --json the error is also one JSON document on stdout, with its code and field", () => {
  const err = new LilyError({
    code: "NO_MATCH",
    field: "jobOffer",
    message: "no provider matched the job",
    hint: "raise --max-price",
    details: { rejections: { "0xabc": "price above max" } },
  });
  const { value, stdout, stderr } = captureOutput(() => printError(err, true));
  assert.equal(value, 6);
  assert.deepEqual(JSON.parse(stdout), {
    error: {
      code: "NO_MATCH",
      field: "jobOffer",
      message: "no provider matched the job",
      hint: "raise --max-price",
      details: { rejections: { "0xabc": "price above max" } },
    },
  });
  assert.match(stderr, /^error: no provider matched the job \[NO_MATCH\]$/m);
});

test("anything that is not a LilyError is one INTERNAL line and exits with 1", () => {
  const { value, stderr } = captureOutput(() => printError(new TypeError("x is undefined")));
  assert.equal(value, 1);
  assert.equal(stderr, "error: x is undefined [INTERNAL]\n");
});
