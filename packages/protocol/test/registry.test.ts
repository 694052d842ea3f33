import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { getAddress } from "viem";
import { RegistryEntry, cidForRecord, compareVersions, registryMismatch, royaltyTermsOf, sameRoyaltyTerms, type RegistryEntry as Entry } from "../src/index.ts";

const creator = getAddress("0x1111111111111111111111111111111111111111");
const manifest = { name: "chess", version: "1.2.0", description: "stockfish" };
const cid = cidForRecord(manifest).cid;
const entry: Entry = { name: "chess", version: "1.2.0", manifestCid: cid, creator, royaltyBps: 250, publishedAt: 1_700_000_000 };

describe("royalty terms come from the registry entry", () => {
  test("royaltyTermsOf: the entry's creator is paid the entry's royalty", () => {
    assert.deepEqual(royaltyTermsOf(entry), { moduleCreator: creator, royaltyBps: 250 });
    assert.deepEqual(royaltyTermsOf({ ...entry, royaltyBps: 0 }), { moduleCreator: creator, royaltyBps: 0 });
  });

  test("sameRoyaltyTerms compares addresses whatever their case, and the rate exactly", () => {
    const terms = royaltyTermsOf(entry);
    assert.equal(sameRoyaltyTerms(terms, { moduleCreator: creator.toLowerCase() as `0x${string}`, royaltyBps: 250 }), true);
    assert.equal(sameRoyaltyTerms(terms, { moduleCreator: creator, royaltyBps: 251 }), false);
    assert.equal(sameRoyaltyTerms(terms, { moduleCreator: getAddress("0x2222222222222222222222222222222222222222"), royaltyBps: 250 }), false);
  });
});

describe("registryMismatch: a module takes an entry's terms only if it is the very manifest the entry registers", () => {
  test("the registered manifest under its own name and version matches", () => {
    assert.equal(registryMismatch(entry, { cid, manifest }), undefined);
  });

  for (const [what, module, says] of [
    [
      "a manifest of another name",
      { cid, manifest: { ...manifest, name: "chess-pro" } },
      /the manifest is chess-pro@1.2.0, but the registry entry is chess@1.2.0/,
    ],
    ["a manifest of another version", { cid, manifest: { ...manifest, version: "1.3.0" } }, /the manifest is chess@1.3.0/],
    [
      "another manifest calling itself chess@1.2.0 (not the one registered)",
      { cid: cidForRecord({ ...manifest, description: "a copy" }).cid, manifest },
      /chess@1.2.0 is registered with manifest .*, not /,
    ],
  ] as const) {
    test(`${what} is refused, naming the module`, () => {
      const r = registryMismatch(entry, module);
      assert.ok(r);
      assert.equal(r.field, "module");
      assert.match(r.reason, says);
    });
  }
});

describe("registry entries and versions", () => {
  test("compareVersions orders by semver, not as text", () => {
    const sorted = ["1.10.0", "1.9.0", "0.0.1", "10.0.0", "2.0.0", "1.9.10", "1.9.9", "4294967295.0.0"].sort(compareVersions);
    assert.deepEqual(sorted, ["0.0.1", "1.9.0", "1.9.9", "1.9.10", "1.10.0", "2.0.0", "10.0.0", "4294967295.0.0"]);
    assert.equal(compareVersions("3.2.1", "3.2.1"), 0);
  });

  test("the wire schema of an entry refuses what the registry could never hold, naming the field", () => {
    assert.deepEqual(RegistryEntry.parse(entry), entry);
    for (const [field, bad] of [
      ["name", { name: "Chess" }],
      ["version", { version: "1.02.0" }],
      ["manifestCid", { manifestCid: "bafy-nope" }],
      ["creator", { creator: "0x12" }],
      ["royaltyBps", { royaltyBps: 10_001 }],
      ["publishedAt", { publishedAt: 0 }],
    ] as const) {
      const r = RegistryEntry.safeParse({ ...entry, ...bad });
      assert.equal(r.success, false, field);
      assert.equal(r.error!.issues[0]!.path[0], field);
    }
  });
});
