// keyAccount (libsecp256k1) against viem's privateKeyToAccount: the same address and public key,
// and byte for byte the same signatures of digests, messages, typed data and transactions, on
// random keys (both are RFC 6979 with low s, so nothing may differ).
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { parseGwei, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { keyAccount } from "../src/keyAccount.ts";
import { nativeSecp256k1 } from "../src/recoverSigner.ts";
import { types } from "../src/index.ts";

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const hexOf = (bytes: number) => fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => `0x${Buffer.from(b).toString("hex")}` as Hex);
const key = hexOf(32).filter((k) => BigInt(k) > 0n && BigInt(k) < N);

test("keyAccount signs through the native binding here (not the fallback)", () => {
  assert.ok(nativeSecp256k1());
  const k = `0x${"11".repeat(32)}` as Hex;
  assert.notEqual(keyAccount(k).sign, privateKeyToAccount(k).sign);
});

test("keyAccount has viem's address and public key, and signs digests and messages to the same bytes", async () => {
  await fc.assert(
    fc.asyncProperty(key, hexOf(32), fc.string(), async (k, hash, message) => {
      const ours = keyAccount(k);
      const viems = privateKeyToAccount(k);
      assert.equal(ours.address, viems.address);
      assert.equal(ours.publicKey, viems.publicKey);
      assert.equal(await ours.sign({ hash }), await viems.sign({ hash }));
      assert.equal(await ours.signMessage({ message }), await viems.signMessage({ message }));
    }),
    { numRuns: 100 },
  );
});

test("keyAccount signs typed data and transactions (EIP-1559 and legacy) to the same bytes as viem", async () => {
  await fc.assert(
    fc.asyncProperty(key, fc.bigInt({ min: 0n, max: 10n ** 24n }), fc.nat({ max: 1000 }), hexOf(20), async (k, value, nonce, to) => {
      const ours = keyAccount(k);
      const viems = privateKeyToAccount(k);
      const typed = {
        domain: { name: "Lily", version: "1", chainId: 31337, verifyingContract: to },
        types: { CancelJobOffer: types.CancelJobOffer },
        primaryType: "CancelJobOffer",
        message: { jobOffer: `0x${"ab".repeat(32)}`, jobCreator: viems.address, at: BigInt(nonce) },
      } as const;
      assert.equal(await ours.signTypedData(typed as never), await viems.signTypedData(typed as never));
      const eip1559 = {
        type: "eip1559",
        chainId: 31337,
        nonce,
        to,
        value,
        gas: 21_000n,
        maxFeePerGas: parseGwei("2"),
        maxPriorityFeePerGas: parseGwei("1"),
      } as const;
      assert.equal(await ours.signTransaction(eip1559), await viems.signTransaction(eip1559));
      const legacy = { type: "legacy", chainId: 1, nonce, to, value, gas: 21_000n, gasPrice: parseGwei("3") } as const;
      assert.equal(await ours.signTransaction(legacy), await viems.signTransaction(legacy));
    }),
    { numRuns: 50 },
  );
});
