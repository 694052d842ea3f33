// keccak.ts's EIP-55 checksum (js-sha3) against viem's getAddress (noble's keccak), on EIP-55's
// own examples and on random addresses.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { getAddress } from "viem";
import { checksumLower } from "../src/keccak.ts";

test("checksumLower spells EIP-55's examples as the EIP does", () => {
  for (const a of [
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    "0x52908400098527886E0F7030069857D2E4169EE7",
    "0xde709f2102306220921060314715629080e2fb77",
  ])
    assert.equal(checksumLower(a.toLowerCase()), a);
});

test("checksumLower is viem's getAddress on random addresses", () => {
  const address = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => `0x${Buffer.from(b).toString("hex")}`);
  fc.assert(
    fc.property(address, (lower) => {
      assert.equal(checksumLower(lower), getAddress(lower));
    }),
    { numRuns: 2_000 },
  );
});
