// The registry's rules for names, versions, royalties and manifests, checked on both sides: the
// contract refuses each bad value itself (called directly, past the client's checks), the client
// refuses it before sending anything, and the two agree value for value with the protocol's
// schemas (the name rule is the manifest's own).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Hex } from "viem";
import { ModuleManifest, cidDigest, cidForRecord, moduleName, registryVersion, royaltyBasisPoints } from "@lily/protocol";
import { moduleRegistryAbi, publishModule, toLilyError, type LilyClient } from "../src/index.ts";
import { rejectsWith, startFixture, type Fixture } from "./fixture.ts";

let f: Fixture;
before(async () => (f = await startFixture()));
after(() => f.stop());

const MANIFEST = cidForRecord({ name: "rules", version: "1.0.0" }).cid;
const DIGEST = cidDigest(MANIFEST);
const ZERO_DIGEST: Hex = `0x${"00".repeat(32)}`;

/**
 * Whether the contract would accept `publish(name, version, manifest, royaltyBps)` from the
 * module creator: an eth_call, so nothing is published. A refusal must be the custom error `error`.
 */
async function contractAccepts(args: readonly [string, string, Hex, number], error: string, from: LilyClient = f.moduleCreator): Promise<boolean> {
  try {
    await from.publicClient.simulateContract({ account: from.account!, address: f.addresses.registry!, abi: moduleRegistryAbi, functionName: "publish", args });
    return true;
  } catch (e) {
    assert.equal(toLilyError(e).details.error, error, `${args.join(" ")}: ${e}`);
    return false;
  }
}

const names: [string, boolean][] = [
  ["a", true],
  ["cowsay", true],
  ["speech-to-text", true],
  ["a1", true],
  ["a-", true],
  ["a--b", true],
  [`a${"b".repeat(63)}`, true],
  [`a${"b".repeat(64)}`, false],
  ["", false],
  ["Cowsay", false],
  ["cowSay", false],
  ["1abc", false],
  ["-abc", false],
  ["a_b", false],
  ["a.b", false],
  ["a b", false],
  [" a", false],
  ["a@1", false],
  ["café", false],
  ["a\u0000", false],
];

const versions: [string, boolean][] = [
  ["0.0.0", true],
  ["1.0.0", true],
  ["10.20.30", true],
  ["4294967295.4294967295.4294967295", true],
  ["4294967296.0.0", false],
  ["0.4294967296.0", false],
  ["0.0.9999999999", false],
  ["0.0.00000000001", false],
  ["01.0.0", false],
  ["1.00.0", false],
  ["1.0.01", false],
  ["1.0", false],
  ["1", false],
  ["1.0.0.0", false],
  ["1..0", false],
  [".1.0", false],
  ["1.0.", false],
  ["", false],
  ["v1.0.0", false],
  ["1.0.0-beta", false],
  ["1.0.0+build", false],
  [" 1.0.0", false],
  ["1.0.0 ", false],
  ["1.-1.0", false],
  ["1.a.0", false],
  ["１.0.0", false], // a full-width digit
];

describe("the contract and the client agree on names, versions and royalties", () => {
  test("names: 1 to 64 lower-case letters, digits and dashes starting with a letter, the manifest's own rule", async () => {
    for (const [name, valid] of names) {
      assert.equal(ModuleManifest.shape.name.safeParse(name).success, valid, `manifest rule, ${JSON.stringify(name)}`);
      assert.equal(moduleName.safeParse(name).success, valid, `client rule, ${JSON.stringify(name)}`);
      assert.equal(await contractAccepts([name, "1.0.0", DIGEST, 0], "RegistryInvalidName"), valid, `contract, ${JSON.stringify(name)}`);
    }
  });

  test("versions: x.y.z, each part a number below 2^32 without leading zeros", async () => {
    for (const [version, valid] of versions) {
      assert.equal(registryVersion.safeParse(version).success, valid, `client rule, ${JSON.stringify(version)}`);
      assert.equal(await contractAccepts(["rules", version, DIGEST, 0], "RegistryInvalidVersion"), valid, `contract, ${JSON.stringify(version)}`);
    }
  });

  test("royalties: 0 to 10000 basis points", async () => {
    for (const [bps, valid] of [
      [0, true],
      [1, true],
      [10_000, true],
      [10_001, false],
      [65_535, false],
    ] as const) {
      assert.equal(royaltyBasisPoints.safeParse(bps).success, valid, `client rule, ${bps}`);
      assert.equal(await contractAccepts(["rules", "1.0.0", DIGEST, bps], "RegistryInvalidRoyalty"), valid, `contract, ${bps}`);
    }
  });

  test("a zero manifest digest names no manifest: RegistryEmptyManifest", async () => {
    assert.equal(await contractAccepts(["rules", "1.0.0", ZERO_DIGEST, 0], "RegistryEmptyManifest"), false);
  });
});

describe("bad input is refused, naming the field, and changes nothing", () => {
  const good = { name: "rules", version: "1.0.0", manifestCid: MANIFEST, royaltyBps: 100 };

  test("by the client, before anything is sent", async () => {
    const nonce = () => f.deployer.publicClient.getTransactionCount({ address: f.moduleCreator.account!.address });
    const before = await nonce();
    for (const [field, bad] of [
      ["name", { name: "Not-Lower" }],
      ["name", { name: "x".repeat(65) }],
      ["version", { version: "1.0" }],
      ["version", { version: "01.0.0" }],
      ["version", { version: "4294967296.0.0" }],
      ["royaltyBps", { royaltyBps: 10_001 }],
      ["royaltyBps", { royaltyBps: -1 }],
      ["royaltyBps", { royaltyBps: 2.5 }],
    ] as const) {
      const e = await rejectsWith(publishModule(f.moduleCreator, { ...good, ...bad }), "INVALID_INPUT");
      assert.equal(e.field, field, JSON.stringify(bad));
    }
    assert.equal(await nonce(), before, "nothing was sent");
  });

  test("by the contract itself, mined anyway (gas given, no estimate): the transaction reverts and nothing is published", async () => {
    const { walletClient, publicClient } = f.moduleCreator;
    for (const args of [
      ["Bad", "1.0.0", DIGEST, 0],
      ["rules", "1.0", DIGEST, 0],
      ["rules", "1.0.0", DIGEST, 10_001],
      ["rules", "1.0.0", ZERO_DIGEST, 0],
    ] as const) {
      const hash = await walletClient!.writeContract({ address: f.addresses.registry!, abi: moduleRegistryAbi, functionName: "publish", args, gas: 500_000n });
      assert.equal((await publicClient.waitForTransactionReceipt({ hash })).status, "reverted", args.join(" "));
    }
    const [names, total] = await publicClient.readContract({ address: f.addresses.registry!, abi: moduleRegistryAbi, functionName: "names", args: [0n, 10n] });
    assert.deepEqual([names, total], [[], 0n]);
  });

  test("the decoded refusals read as sentences naming the field", async () => {
    for (const [args, field, says] of [
      [["Bad", "1.0.0", DIGEST, 0], "name", /module name "Bad" is not 1 to 64 lower-case letters/],
      [["rules", "01.0.0", DIGEST, 0], "version", /version "01.0.0" is not semver x.y.z/],
      [["rules", "1.0.0", DIGEST, 10_001], "royaltyBps", /10001 basis points exceeds the whole price/],
      [["rules", "1.0.0", ZERO_DIGEST, 0], "manifestCid", /names no manifest/],
    ] as const) {
      const e = await f.moduleCreator.publicClient
        .simulateContract({ account: f.moduleCreator.account!, address: f.addresses.registry!, abi: moduleRegistryAbi, functionName: "publish", args })
        .then(
          () => assert.fail("expected a revert"),
          (err: unknown) => toLilyError(err),
        );
      assert.equal(e.code, "INVALID_INPUT");
      assert.equal(e.field, field);
      assert.match(e.message, says);
    }
  });
});
