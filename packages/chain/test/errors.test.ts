import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { encodeErrorResult, keccak256, toHex, toFunctionSelector } from "viem";
import { explainedErrors, fromRevertData, lilyDealsAbi } from "../src/index.ts";

// Errors only OpenZeppelin internals can raise (unreachable through Lily's own rules).
const internal = new Set(["InvalidShortString", "StringTooLong", "ReentrancyGuardReentrantCall", "SafeERC20FailedOperation"]);

describe("contract errors, decoded", () => {
  test("every custom error LilyDeals can revert with has a readable sentence", () => {
    const missing = lilyDealsAbi
      .filter((i) => i.type === "error")
      .map((e) => e.name)
      .filter((name) => !internal.has(name) && !explainedErrors.has(name));
    assert.deepEqual(missing, []);
  });

  test("DealsWrongPolicy names the operation by its function name and says what to do instead", () => {
    const dealId = keccak256(toHex("a deal"));
    const challenge = lilyDealsAbi.find((i) => i.type === "function" && i.name === "challenge")!;
    const data = encodeErrorResult({ abi: lilyDealsAbi, errorName: "DealsWrongPolicy", args: [dealId, 2, toFunctionSelector(challenge as never)] });
    const e = fromRevertData(data);
    assert.equal(e.message, `deal ${dealId} is under replicate, which has no challenge`);
    assert.match(e.hint!, /settleReplicas \/ ruleReplicas/);
  });

  test("a state in an error is named, not numbered", () => {
    const dealId = keccak256(toHex("a deal"));
    const e = fromRevertData(encodeErrorResult({ abi: lilyDealsAbi, errorName: "DealsNotChallenged", args: [dealId, 6] }));
    assert.match(e.message, /is slashed: it is not waiting for a mediator/);
  });
});
