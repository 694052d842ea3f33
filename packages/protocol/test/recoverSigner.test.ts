// The native signer recovery (libsecp256k1) against viem's pure-JS one: the same address for every
// signature a key makes, and the same refusals for signatures that recover nothing, on random
// keys, digests and (r, s, v) values.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { recoverAddress, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { nativeSecp256k1, recoverNative } from "../src/recoverSigner.ts";

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const hexOf = (bytes: number) => fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => `0x${Buffer.from(b).toString("hex")}` as Hex);
const word = (n: bigint) => n.toString(16).padStart(64, "0");

const native = nativeSecp256k1();

test("the native binding loads on this machine (the prebuilt libsecp256k1 the package ships)", () => {
  assert.ok(native, "secp256k1/bindings.js did not load: recovery falls back to pure JS");
});

test("native recovery names the signer viem names, for signatures real keys make", async () => {
  await fc.assert(
    fc.asyncProperty(hexOf(32), hexOf(32), async (key, digest) => {
      fc.pre(BigInt(key) > 0n && BigInt(key) < N);
      const account = privateKeyToAccount(key);
      const signature = await account.sign({ hash: digest });
      assert.equal(recoverNative(native!, digest, signature), account.address);
      assert.equal(await recoverAddress({ hash: digest, signature }), account.address);
    }),
    { numRuns: 200 },
  );
});

test("native recovery and viem agree on arbitrary (r, s, v): the same address, or both refuse", async () => {
  // r and s reach past the group order, and v flips, so unparsable and unrecoverable values come up.
  const seen = { recovered: 0, refused: 0 };
  const scalar = fc.oneof(fc.bigInt({ min: 1n, max: N - 1n }), fc.bigInt({ min: N - 3n, max: (1n << 256n) - 1n }));
  await fc.assert(
    fc.asyncProperty(hexOf(32), scalar, scalar, fc.constantFrom(27, 28), async (digest, r, s, v) => {
      const signature = `0x${word(r)}${word(s)}${v.toString(16)}` as Hex;
      const outcome = async (f: () => Promise<string> | string) => {
        try {
          return await f();
        } catch {
          return "refused";
        }
      };
      const ours = await outcome(() => recoverNative(native!, digest, signature));
      const viems = await outcome(() => recoverAddress({ hash: digest, signature }));
      assert.equal(ours, viems, `r ${r} s ${s} v ${v}`);
      seen[ours === "refused" ? "refused" : "recovered"]++;
    }),
    { numRuns: 1000 },
  );
  // Both kinds of case were really compared. About one run in eight recovers (both scalars below
  // the order, and r the x of a curve point), ~125 of 1,000 with a spread of ~10: at 500 runs a
  // bound of 50 failed CI once on an unlucky seed (48), with no disagreement found.
  assert.ok(seen.recovered > 50 && seen.refused > 50, JSON.stringify(seen));
});

test("a signature that is not 65 bytes with v 27 or 28 is refused", () => {
  const rs = `${word(1n)}${word(1n)}`;
  for (const sig of [`0x${rs}`, `0x${rs}00`, `0x${rs}1d`, `0x${rs}1b00`] as Hex[])
    assert.throws(() => recoverNative(native!, `0x${word(7n)}`, sig), /65 bytes/);
});
