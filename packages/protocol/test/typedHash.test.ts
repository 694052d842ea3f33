// hashRecord computes EIP-712 digests with its own cached encoder (src/typedHash.ts) instead of
// viem's hashTypedData: these tests hold it to viem's bytes, for every record type, on random
// records and domains (fast-check), and to viem's refusals on values viem refuses.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { getAddress, hashTypedData, type Address, type Hex } from "viem";
import { DOMAIN_NAME, DOMAIN_VERSION, hashRecord, types, type Domain, type PrimaryType } from "../src/index.ts";

const viemHash = (domain: Domain, primaryType: PrimaryType, message: Record<string, unknown>): Hex =>
  hashTypedData({
    domain: { name: DOMAIN_NAME, version: DOMAIN_VERSION, chainId: domain.chainId, verifyingContract: domain.verifyingContract },
    types,
    primaryType,
    message,
  } as never);

/** What a call gives: its digest, or the name of the error it threw. */
const outcome = (f: () => Hex): string => {
  try {
    return f();
  } catch (e) {
    return `threw ${(e as Error).name}`;
  }
};

const hexOf = (bytes: number) => fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => `0x${Buffer.from(b).toString("hex")}` as Hex);
/** Addresses as they arrive: lowercase or checksummed. */
const address = fc.tuple(hexOf(20), fc.boolean()).map(([a, checksummed]) => (checksummed ? getAddress(a) : a) as Address);
const uint = (bits: number) => fc.bigInt({ min: 0n, max: (1n << BigInt(bits)) - 1n });
const text = fc.oneof(fc.string(), fc.string({ unit: "grapheme" }), fc.constant(""));

/** A valid value for an EIP-712 field type of Lily's records (small uints sometimes as numbers, as callers pass them). */
function fieldValue(type: string): fc.Arbitrary<unknown> {
  if (type.endsWith("[]")) return fc.array(fieldValue(type.slice(0, -2)), { maxLength: 6 });
  if (type === "address") return address;
  if (type === "bytes32") return hexOf(32);
  if (type === "string") return text;
  const bits = Number(/^uint(\d+)$/.exec(type)![1]);
  return bits <= 32 ? fc.oneof(uint(bits), uint(bits).map(Number)) : uint(bits);
}

const recordOf = (primaryType: PrimaryType) =>
  fc.record(Object.fromEntries(types[primaryType].map((f) => [f.name, fieldValue(f.type)])) as Record<string, fc.Arbitrary<unknown>>);

const domainArb = fc.record({ chainId: fc.integer({ min: 0, max: 2 ** 40 }), verifyingContract: address });

for (const primaryType of Object.keys(types) as PrimaryType[]) {
  test(`hashRecord gives viem's EIP-712 digest for random ${primaryType} records and domains`, () => {
    fc.assert(
      fc.property(domainArb, recordOf(primaryType), (domain, message) => {
        assert.equal(hashRecord(domain, primaryType, message as never), viemHash(domain, primaryType, message));
      }),
      { numRuns: primaryType === "Deal" ? 500 : 150 },
    );
  });
}

test("a deal id is the same digest on a second call (the cached domain separator and type hash change nothing)", () => {
  fc.assert(
    fc.property(domainArb, recordOf("Deal"), (domain, deal) => {
      const first = hashRecord(domain, "Deal", deal as never);
      assert.equal(hashRecord({ ...domain }, "Deal", { ...deal } as never), first);
      assert.equal(first, viemHash(domain, "Deal", deal));
    }),
    { numRuns: 100 },
  );
});

test("a deal id changes with any one term, as viem's does", () => {
  fc.assert(
    fc.property(domainArb, recordOf("Deal"), recordOf("Deal"), fc.integer({ min: 0, max: types.Deal.length - 1 }), (domain, deal, other, i) => {
      const name = types.Deal[i]!.name;
      const changed = { ...deal, [name]: other[name] };
      const same = viemHash(domain, "Deal", deal) === viemHash(domain, "Deal", changed);
      assert.equal(hashRecord(domain, "Deal", deal as never) === hashRecord(domain, "Deal", changed as never), same);
    }),
    { numRuns: 200 },
  );
});

const domain: Domain = { chainId: 31337, verifyingContract: "0x5FbDB2315678afecb367f032d93F642f64180aa3" };
const deal = {
  jobCreator: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
  provider: "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc",
  jobOffer: `0x${"11".repeat(32)}`,
  resourceOffer: `0x${"22".repeat(32)}`,
  price: 100n,
  collateral: 50n,
  openBy: 1_899_999_000n,
  deadline: 1_900_000_000n,
  policy: 0,
  policyParam: 0n,
  mediationFee: 0n,
  mediators: `0x${"00".repeat(32)}`,
  replicas: `0x${"00".repeat(32)}`,
  moduleCreator: "0x0000000000000000000000000000000000000000",
  royaltyBps: 0,
} as const;

test("values viem refuses are refused the same way, and values it accepts hash the same (table)", () => {
  const cases: [string, Record<string, unknown>, Domain?][] = [
    ["a bad address checksum", { ...deal, provider: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293Bc".replace("C44", "c44") }],
    ["an upper-case address with no checksum", { ...deal, provider: "0x3C44CDDDB6A900FA2B585DD299E03D12FA4293BC" }],
    ["a short address", { ...deal, provider: "0x3c44cdddb6a900fa2b585dd299e03d12fa4293" }],
    ["a uint16 out of range", { ...deal, royaltyBps: 70_000 }],
    ["a negative uint", { ...deal, price: -1n }],
    ["a uint256 past 2^256", { ...deal, price: 1n << 256n }],
    ["a uint256 of exactly 2^256 - 1", { ...deal, price: (1n << 256n) - 1n }],
    ["a fractional number", { ...deal, policy: 1.5 }],
    ["a short bytes32", { ...deal, jobOffer: "0x1234" }],
    ["upper-case bytes32 digits", { ...deal, jobOffer: `0x${"AB".repeat(32)}` }],
    ["a missing field", { ...deal, deadline: undefined }],
    ["a number for a uint64", { ...deal, openBy: 1_899_999_000 }],
    ["a bad verifying contract", deal, { chainId: 1, verifyingContract: "0x5FBDB2315678AFECB367F032D93F642F64180AA3".replace("FB", "fB") as Address }],
    ["a negative chain id", deal, { chainId: -1, verifyingContract: domain.verifyingContract }],
  ];
  const accepted = new Set(["a uint256 of exactly 2^256 - 1", "upper-case bytes32 digits", "a number for a uint64"]);
  for (const [what, message, d = domain] of cases) {
    const ours = outcome(() => hashRecord(d, "Deal", message as never));
    assert.equal(
      ours,
      outcome(() => viemHash(d, "Deal", message)),
      what,
    );
    assert.equal(ours.startsWith("threw"), !accepted.has(what), `${what}: ${ours}`);
  }
});

test("a resource offer's module list and a job offer's mediators hash as viem's arrays do, empty ones too", () => {
  const offer = {
    provider: deal.provider,
    cpu: 4,
    memoryMb: 8192,
    gpu: 0,
    vramMb: 0,
    price: 10n ** 12n,
    collateral: 10n ** 13n,
    modules: [],
    mediators: [deal.jobCreator, deal.provider],
    expiresAt: 1_900_000_000n,
    nonce: 1n,
  };
  for (const modules of [[], ["bafy-a"], ["bafy-a", "bafy-b", "ünïcødé ✓"]]) {
    assert.equal(hashRecord(domain, "ResourceOffer", { ...offer, modules }), viemHash(domain, "ResourceOffer", { ...offer, modules }));
  }
  assert.equal(hashRecord(domain, "ResourceOffer", { ...offer, mediators: [] }), viemHash(domain, "ResourceOffer", { ...offer, mediators: [] }));
});
