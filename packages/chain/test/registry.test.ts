import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { zeroAddress, type Address } from "viem";
import { cidForBytes, cidForRecord, royaltyTermsOf, type RegistryEntry } from "@lily/protocol";
import {
  createLilyClient,
  explainedErrors,
  getModule,
  getModuleEvents,
  latestModule,
  listModuleNames,
  listModuleVersions,
  moduleNameCreator,
  moduleRegistryAbi,
  publishModule,
  transferModuleName,
  type LilyClient,
} from "../src/index.ts";
import { rejectsWith, startFixture, type Fixture } from "./fixture.ts";

let f: Fixture;
before(async () => (f = await startFixture()));
after(() => f.stop());

const addr = (c: LilyClient): Address => c.account!.address;
/** A real manifest CID: the dag-json record of a manifest for `name@version` (`extra` makes another one). */
const manifestOf = (name: string, version: string, extra: Record<string, unknown> = {}) =>
  cidForRecord({ name, version, description: `${name} ${version}`, license: "MIT", ...extra }).cid;

/** Everything the registry says about `name`, to show a refused call changed none of it. */
async function snapshot(name: string) {
  const c = f.deployer;
  return {
    creator: await moduleNameCreator(c, { name }),
    latest: await latestModule(c, { name }),
    versions: await listModuleVersions(c, { name }),
    names: await listModuleNames(c),
  };
}

describe("the module registry: publish, then read back", () => {
  test("a module creator publishes name@version: get, latest, the versions, the names, the creator of the name and the event all give it back", async () => {
    const manifestCid = manifestOf("cowsay", "1.0.0");
    const published = await publishModule(f.moduleCreator, { name: "cowsay", version: "1.0.0", manifestCid, royaltyBps: 500 });
    const block = await f.deployer.publicClient.getBlock({ blockNumber: published.blockNumber });
    const expected: RegistryEntry = {
      name: "cowsay",
      version: "1.0.0",
      manifestCid,
      creator: addr(f.moduleCreator),
      royaltyBps: 500,
      publishedAt: Number(block.timestamp),
    };
    assert.deepEqual(published.entry, expected);

    const reader = f.deployer; // anyone reads
    assert.deepEqual(await getModule(reader, { name: "cowsay", version: "1.0.0" }), expected);
    assert.deepEqual(await latestModule(reader, { name: "cowsay" }), expected);
    assert.deepEqual(await listModuleVersions(reader, { name: "cowsay" }), ["1.0.0"]);
    assert.deepEqual(await listModuleNames(reader), { names: ["cowsay"], total: 1 });
    assert.equal(await moduleNameCreator(reader, { name: "cowsay" }), addr(f.moduleCreator));
    assert.equal(await moduleNameCreator(reader, { name: "nobody-has-this" }), undefined);

    const events = await getModuleEvents(reader, { name: "cowsay" });
    assert.deepEqual(
      events.map(({ txHash, blockNumber, logIndex, ...rest }) => rest),
      [{ kind: "published", name: "cowsay", version: "1.0.0", manifestCid, creator: addr(f.moduleCreator), royaltyBps: 500 }],
    );
    assert.equal(events[0]!.txHash, published.txHash);

    // The royalty terms a deal running it carries come from this entry.
    assert.deepEqual(royaltyTermsOf(expected), { moduleCreator: addr(f.moduleCreator), royaltyBps: 500 });
  });

  test("a name or version never published is UNKNOWN_MODULE, naming the field", async () => {
    const e1 = await rejectsWith(getModule(f.deployer, { name: "cowsay", version: "9.9.9" }), "UNKNOWN_MODULE", "RegistryUnknownVersion");
    assert.equal(e1.field, "version");
    assert.equal(e1.message, "cowsay@9.9.9 was never published");
    // One read at a time: a rejection nobody awaits yet would be reported as unhandled.
    for (const read of [
      () => getModule(f.deployer, { name: "ghost", version: "1.0.0" }),
      () => latestModule(f.deployer, { name: "ghost" }),
      () => listModuleVersions(f.deployer, { name: "ghost" }),
    ]) {
      const e = await rejectsWith(read(), "UNKNOWN_MODULE", "RegistryUnknownName");
      assert.equal(e.field, "name");
    }
  });
});

describe("a published version never changes", () => {
  test("its creator republishes cowsay@1.0.0, with another manifest or the same one: RegistryVersionExists names the manifest on record, and nothing changed", async () => {
    const before = await snapshot("cowsay");
    const original = before.latest.manifestCid;
    for (const [what, manifestCid, royaltyBps] of [
      ["another manifest, a higher royalty", manifestOf("cowsay", "1.0.0", { description: "a better cow" }), 900],
      ["the same manifest and royalty", original, 500],
    ] as const) {
      const e = await rejectsWith(
        publishModule(f.moduleCreator, { name: "cowsay", version: "1.0.0", manifestCid, royaltyBps }),
        "CHAIN_REVERT",
        "RegistryVersionExists",
      );
      assert.equal(e.field, "version", what);
      assert.equal(e.message, `cowsay@1.0.0 is already published (manifest ${original}); a published version never changes`, what);
    }
    assert.deepEqual(await snapshot("cowsay"), before);
  });

  test("nobody else may publish under a name a creator holds, not even a new version: RegistryNameTaken names the creator, and nothing changed", async () => {
    const before = await snapshot("cowsay");
    for (const version of ["1.0.0", "1.0.1", "2.0.0"]) {
      const e = await rejectsWith(
        publishModule(f.stranger, { name: "cowsay", version, manifestCid: manifestOf("cowsay", version, { by: "stranger" }), royaltyBps: 10_000 }),
        "CHAIN_REVERT",
        "RegistryNameTaken",
      );
      assert.equal(e.field, "name");
      assert.deepEqual(e.details.args, { name: "cowsay", creator: addr(f.moduleCreator) });
    }
    assert.deepEqual(await snapshot("cowsay"), before);
  });
});

describe("latest is the highest version by semver, whatever order versions are published in", () => {
  test("thirty versions published out of order (1.10.0 after 1.9.0, patches to old lines after a new major): latest follows the highest, versions come back in semver order", async () => {
    const order = [
      "1.0.0",
      "0.1.0",
      "1.2.0",
      "1.10.0",
      "1.9.0",
      "2.0.0",
      "1.10.1",
      "0.0.1",
      "1.2.3",
      "2.0.10",
      "2.0.9",
      "3.0.0",
      "2.1.0",
      "10.0.0",
      "9.99.99",
      "3.0.1",
      "3.1.0",
      "0.0.0",
      "10.0.1",
      "4294967295.0.0",
      "11.0.0",
      "4294967294.4294967295.4294967295",
      "100.0.0",
      "4294967295.0.1",
      "5.5.5",
      "0.10.0",
      "0.9.0",
      "4294967295.1.0",
      "7.0.0",
      "4294967295.4294967295.4294967295",
    ];
    const semver = (v: string) => v.split(".").map(BigInt);
    const higher = (a: string, b: string) => {
      const [x, y] = [semver(a), semver(b)];
      for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i]! > y[i]!;
      return false;
    };
    let highest: string | undefined;
    for (const version of order) {
      await publishModule(f.moduleCreator, { name: "primes", version, manifestCid: manifestOf("primes", version), royaltyBps: 100 });
      if (!highest || higher(version, highest)) highest = version;
      const latest = await latestModule(f.deployer, { name: "primes" });
      assert.equal(latest.version, highest, `after publishing ${version}`);
      assert.equal(latest.manifestCid, manifestOf("primes", highest));
    }
    const sorted = [...order].sort((a, b) => (higher(a, b) ? 1 : higher(b, a) ? -1 : 0));
    assert.deepEqual(await listModuleVersions(f.deployer, { name: "primes" }), sorted);
    // Each version keeps its own manifest.
    for (const version of ["0.0.0", "1.9.0", "1.10.0", "4294967295.4294967295.4294967295"]) {
      assert.equal((await getModule(f.deployer, { name: "primes", version })).manifestCid, manifestOf("primes", version));
    }
  });

  test("the contract's pages of versions and names: in publication order, clamped at the end, empty past it", async () => {
    const read = (functionName: "versions", args: readonly [string, bigint, bigint]) =>
      f.deployer.publicClient.readContract({ address: f.addresses.registry!, abi: moduleRegistryAbi, functionName, args });
    assert.deepEqual(await read("versions", ["primes", 0n, 3n]), [["1.0.0", "0.1.0", "1.2.0"], 30n]);
    assert.deepEqual(await read("versions", ["primes", 28n, 5n]), [["7.0.0", "4294967295.4294967295.4294967295"], 30n]);
    assert.deepEqual(await read("versions", ["primes", 30n, 5n]), [[], 30n]);
    assert.deepEqual(await read("versions", ["primes", 2n ** 256n - 1n, 2n ** 256n - 1n]), [[], 30n]);
    assert.deepEqual(await read("versions", ["primes", 29n, 2n ** 256n - 1n]), [["4294967295.4294967295.4294967295"], 30n]);

    await publishModule(f.stranger, { name: "wordcount", version: "1.0.0", manifestCid: manifestOf("wordcount", "1.0.0"), royaltyBps: 0 });
    assert.deepEqual(await listModuleNames(f.deployer), { names: ["cowsay", "primes", "wordcount"], total: 3 });
    assert.deepEqual(await listModuleNames(f.deployer, { offset: 1, limit: 1 }), { names: ["primes"], total: 3 });
    assert.deepEqual(await listModuleNames(f.deployer, { offset: 2, limit: 5 }), { names: ["wordcount"], total: 3 });
    assert.deepEqual(await listModuleNames(f.deployer, { offset: 3 }), { names: [], total: 3 });
    assert.deepEqual(await listModuleNames(f.deployer, { limit: 0 }), { names: [], total: 3 });
    const e = await rejectsWith(listModuleNames(f.deployer, { limit: 501 }), "INVALID_INPUT");
    assert.equal(e.field, "limit");
  });
});

describe("a name changes hands only by its creator", () => {
  test("the creator transfers its name: the new creator publishes under it, the old one no longer can, and versions published before keep their creator and royalty", async () => {
    await publishModule(f.moduleCreator, { name: "handover", version: "1.0.0", manifestCid: manifestOf("handover", "1.0.0"), royaltyBps: 700 });
    const heir = f.providers[2]!; // a funded account with gas
    // REJECT: only the holder hands the name on.
    const e = await rejectsWith(transferModuleName(f.stranger, { name: "handover", to: addr(f.stranger) }), "CHAIN_REVERT", "RegistryNotNameCreator");
    assert.deepEqual(e.details.args, { name: "handover", creator: addr(f.moduleCreator), caller: addr(f.stranger) });
    const z = await rejectsWith(transferModuleName(f.moduleCreator, { name: "handover", to: zeroAddress }), "INVALID_INPUT", "RegistryZeroCreator");
    assert.equal(z.field, "to");
    await rejectsWith(transferModuleName(f.moduleCreator, { name: "unheard-of", to: addr(heir) }), "UNKNOWN_MODULE", "RegistryUnknownName");
    assert.equal(await moduleNameCreator(f.deployer, { name: "handover" }), addr(f.moduleCreator));

    await transferModuleName(f.moduleCreator, { name: "handover", to: addr(heir) });
    assert.equal(await moduleNameCreator(f.deployer, { name: "handover" }), addr(heir));
    await publishModule(heir, { name: "handover", version: "2.0.0", manifestCid: manifestOf("handover", "2.0.0"), royaltyBps: 300 });
    const taken = await rejectsWith(
      publishModule(f.moduleCreator, { name: "handover", version: "3.0.0", manifestCid: manifestOf("handover", "3.0.0"), royaltyBps: 700 }),
      "CHAIN_REVERT",
      "RegistryNameTaken",
    );
    assert.equal((taken.details.args as { creator: string }).creator, addr(heir));

    const v1 = await getModule(f.deployer, { name: "handover", version: "1.0.0" });
    assert.deepEqual(royaltyTermsOf(v1), { moduleCreator: addr(f.moduleCreator), royaltyBps: 700 });
    const v2 = await latestModule(f.deployer, { name: "handover" });
    assert.deepEqual(royaltyTermsOf(v2), { moduleCreator: addr(heir), royaltyBps: 300 });
    // The new holder cannot rewrite the versions it inherited either.
    await rejectsWith(
      publishModule(heir, { name: "handover", version: "1.0.0", manifestCid: manifestOf("handover", "1.0.0", { by: "heir" }), royaltyBps: 10_000 }),
      "CHAIN_REVERT",
      "RegistryVersionExists",
    );

    assert.deepEqual(
      (await getModuleEvents(f.deployer, { name: "handover" })).map((ev) =>
        ev.kind === "published" ? `${ev.kind} ${ev.version} by ${ev.creator}` : `${ev.kind} ${ev.from} -> ${ev.to}`,
      ),
      [`published 1.0.0 by ${addr(f.moduleCreator)}`, `transferred ${addr(f.moduleCreator)} -> ${addr(heir)}`, `published 2.0.0 by ${addr(heir)}`],
    );
  });
});

describe("the client side of the registry", () => {
  test("a manifest CID that is not a dag-json record, or not a CID at all, is refused before anything is sent", async () => {
    const nonce = await f.deployer.publicClient.getTransactionCount({ address: addr(f.moduleCreator) });
    for (const manifestCid of [cidForBytes(new TextEncoder().encode("a wasm binary")), "not-a-cid", ""]) {
      const e = await rejectsWith(publishModule(f.moduleCreator, { name: "cowsay", version: "5.0.0", manifestCid, royaltyBps: 0 }), "INVALID_INPUT");
      assert.equal(e.field, "manifestCid");
    }
    assert.equal(await f.deployer.publicClient.getTransactionCount({ address: addr(f.moduleCreator) }), nonce, "nothing was sent");
  });

  test("a client built without the registry's address fails with CONFIG naming it", async () => {
    const { registry, ...dealsOnly } = f.addresses;
    assert.ok(registry);
    const client = createLilyClient({ rpcUrl: f.anvil.rpcUrl, addresses: dealsOnly });
    const e = await rejectsWith(latestModule(client, { name: "cowsay" }), "CONFIG");
    assert.equal(e.field, "registry");
  });

  test("every custom error the registry can revert with has a readable sentence", () => {
    const missing = moduleRegistryAbi
      .filter((i) => i.type === "error")
      .map((e) => e.name)
      .filter((name) => !explainedErrors.has(name));
    assert.deepEqual(missing, []);
  });
});

describe("gas per publish", () => {
  test("first version of a new name, a later version, a patch to an older line, and a 64-character name", async (t) => {
    const gas: Record<string, bigint> = {};
    const publish = async (what: string, name: string, version: string) => {
      const r = await publishModule(f.moduleCreator, { name, version, manifestCid: manifestOf(name, version), royaltyBps: 250 });
      gas[what] = r.gasUsed;
    };
    await publish("a new name (first version)", "gas-probe", "1.0.0");
    await publish("a new highest version", "gas-probe", "2.0.0");
    await publish("a patch below latest", "gas-probe", "1.0.1");
    await publish("a new 64-character name", `g${"x".repeat(63)}`, "1.0.0");
    for (const [what, used] of Object.entries(gas)) t.diagnostic(`publish, ${what}: ${used} gas`);
    // Every publish writes the entry (two slots) and appends a version; a new name also claims it.
    assert.ok(gas["a new name (first version)"]! > gas["a new highest version"]!);
  });
});
