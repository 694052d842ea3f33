import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeFunctionData, type Abi, type Address, type Hex } from "viem";
import { lilyDealsAbi } from "@lily/chain";
import type { DealMessage } from "@lily/protocol";
import { termsInCalldata } from "../src/calldata.ts";

const word = (n: number) => `0x${n.toString(16).padStart(64, "0")}` as Hex;
const deal = (n: number): DealMessage => ({
  jobCreator: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
  provider: n % 2 ? "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC" : "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
  jobOffer: word(7),
  resourceOffer: word(100 + n),
  price: 3n * 10n ** 18n,
  collateral: 5n * 10n ** 18n,
  openBy: 1_899_999_000n,
  deadline: 1_900_000_000n,
  policy: 2,
  policyParam: 2n,
  mediationFee: 10n ** 18n,
  mediators: word(9),
  replicas: n % 2 ? word(11) : word(12),
  moduleCreator: "0x0000000000000000000000000000000000000000",
  royaltyBps: 250,
});
const mediators: Address[] = ["0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65", "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc"];

test("a challenge's calldata gives back the deal's terms exactly", () => {
  const data = encodeFunctionData({ abi: lilyDealsAbi, functionName: "challenge", args: [deal(1), word(0)] });
  const found = termsInCalldata(lilyDealsAbi as Abi, data);
  assert.deepEqual(found.deals, [deal(1)]);
  assert.deepEqual(found.groups, []);
});

test("a replica tally's calldata gives back the whole group", () => {
  const data = encodeFunctionData({ abi: lilyDealsAbi, functionName: "settleReplicas", args: [[deal(1), deal(2)]] });
  assert.deepEqual(termsInCalldata(lilyDealsAbi as Abi, data).groups, [[deal(1), deal(2)]]);
});

test("a mediator list passed as an argument is found", () => {
  const data = encodeFunctionData({ abi: lilyDealsAbi, functionName: "rule", args: [deal(1), mediators, true, 0] });
  const found = termsInCalldata(lilyDealsAbi as Abi, data);
  assert.deepEqual(found.deals, [deal(1)]);
  assert.deepEqual(found.addressLists, [mediators]);
});

test("calldata that is not a LilyDeals call yields nothing", () => {
  assert.deepEqual(termsInCalldata(lilyDealsAbi as Abi, "0xdeadbeef"), { deals: [], groups: [], addressLists: [] });
  assert.deepEqual(termsInCalldata(lilyDealsAbi as Abi, "0x"), { deals: [], groups: [], addressLists: [] });
});
