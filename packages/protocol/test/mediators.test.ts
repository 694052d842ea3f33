// addressSetHash and sortedAddresses (src/mediators.ts) write the ABI encoding themselves and cache
// per set; these tests hold them to viem's keccak256(encodeAbiParameters(address[])) and to the
// BigInt sort they replaced, on random sets (fast-check), including viem's refusals.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { encodeAbiParameters, getAddress, keccak256, type Address, type Hex } from "viem";
import { NO_MEDIATORS, addressSetHash, mediatorSetHash, replicaGroupHash, sortedAddresses } from "../src/index.ts";

const viemSetHash = (list: readonly Address[]): Hex =>
  list.length === 0 ? NO_MEDIATORS : keccak256(encodeAbiParameters([{ type: "address[]" }], [list as Address[]]));
/** The sort as it was written before the fast path: by value, through BigInt, then getAddress. */
const bigintSorted = (list: readonly Address[]): Address[] =>
  [...new Set(list.map((x) => x.toLowerCase()))].sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : 1)).map((x) => getAddress(x));

/** What a call gives: its value, or the name of the error it threw. */
const outcome = <T>(f: () => T): T | string => {
  try {
    return f();
  } catch (e) {
    return `threw ${(e as Error).name}`;
  }
};

const hexOf = (bytes: number) => fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => `0x${Buffer.from(b).toString("hex")}`);
/** A small pool, so sets repeat (the cache is hit) and share members; each spelled lowercase, checksummed or upper-case (which viem refuses unless it is the checksum). */
const pool = fc.array(hexOf(20), { minLength: 1, maxLength: 8 });
const spelled = (a: string, how: number) => (how === 0 ? a : how === 1 ? getAddress(a) : `0x${a.slice(2).toUpperCase()}`) as Address;
const setFrom = (p: string[]) =>
  fc.array(fc.tuple(fc.nat({ max: p.length - 1 }), fc.nat({ max: 2 })), { maxLength: 6 }).map((xs) => xs.map(([i, how]) => spelled(p[i]!, how)));
const sets = pool.chain((p) => fc.array(setFrom(p), { minLength: 1, maxLength: 6 }));

test("a set's hash is viem's keccak256(abi.encode(address[])), on random lists, repeated and differently spelled", () => {
  fc.assert(
    fc.property(sets, (lists) => {
      for (const list of [...lists, ...lists]) {
        // Upper-case spellings fail viem's checksum rule: both must refuse them alike.
        assert.equal(
          outcome(() => addressSetHash(list)),
          outcome(() => viemSetHash(list)),
        );
        const sorted = sortedAddresses(list);
        assert.equal(mediatorSetHash(sorted), viemSetHash(sorted));
        assert.equal(replicaGroupHash(list), viemSetHash(bigintSorted(list)));
      }
    }),
    { numRuns: 300 },
  );
});

test("sortedAddresses sorts by value, drops duplicates whatever their case, and checksums, as the BigInt sort did", () => {
  fc.assert(
    fc.property(sets, (lists) => {
      for (const list of lists) assert.deepEqual(sortedAddresses(list), bigintSorted(list));
    }),
    { numRuns: 300 },
  );
});

test("what viem refuses is refused the same way, and not cached as a hash", () => {
  const a = "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed";
  // EIP-55's own example (0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed) with one letter's case flipped.
  const badChecksum = "0x5aaeb6053F3E94C9b9A09f33669435E7Ef1BeAed" as Address;
  for (const list of [[badChecksum], ["0x1234" as Address], [a as Address, "0xzz" as Address]]) {
    assert.equal(
      outcome(() => addressSetHash(list)),
      outcome(() => viemSetHash(list)),
    );
    assert.match(String(outcome(() => addressSetHash(list))), /^threw /);
    assert.deepEqual(
      outcome(() => sortedAddresses(list)),
      outcome(() => bigintSorted(list)),
    );
  }
  assert.equal(addressSetHash([]), NO_MEDIATORS);
});
