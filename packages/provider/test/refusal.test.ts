// A transaction refused by the contract (its custom error decoded) is a refusal; anything else (a
// node that did not answer, a nonce race, a revert without a reason) is retried on the next pass
// and never turned into a decline.
import { test } from "node:test";
import assert from "node:assert/strict";
import { HttpRequestError, NonceTooLowError, encodeErrorResult, type Hex } from "viem";
import { fromRevertData, lilyErrorsAbi, toLilyError } from "@lily/chain";
import { LilyError } from "@lily/protocol";
import { refusal } from "../src/refusal.ts";

const ACCOUNT = "0x00000000000000000000000000000000000000A1";
const DEAL = `0x${"ab".repeat(32)}` as Hex;
const reverted = (errorName: string, args: readonly unknown[]) => fromRevertData(encodeErrorResult({ abi: lilyErrorsAbi, errorName, args } as never));

const cases: [string, unknown, string | undefined][] = [
  ["the job creator's escrow is short: refused", reverted("EscrowInsufficientBalance", [ACCOUNT, 0n, 5n]), "EscrowInsufficientBalance"],
  ["someone opened the deal first: refused (the chain is to be read)", reverted("DealsAlreadyOpened", [DEAL]), "DealsAlreadyOpened"],
  ["a signature the contract will not take: refused", reverted("DealsInvalidSignature", [ACCOUNT]), "DealsInvalidSignature"],
  ["the chain's node did not answer: retried", toLilyError(new HttpRequestError({ url: "http://127.0.0.1:8545", status: 502 })), undefined],
  ["a nonce race the account queue could not absorb: retried", toLilyError(new NonceTooLowError({ nonce: 3 })), undefined],
  ["a revert without a reason: retried", new LilyError({ code: "CHAIN_REVERT", message: "the contract call reverted without a reason" }), undefined],
  ["anything that is not a LilyError: retried", new Error("socket hang up"), undefined],
];

for (const [name, error, expected] of cases) {
  test(name, () => assert.equal(refusal(error), expected));
}
