// Authority map, module creator: it may NOT change a published version (versions are immutable,
// addressed by content id, and the on-chain registry refuses a second publication of a version),
// nobody may publish under another creator's name, and its royalty is whatever the signed deal
// says, paid only to the module creator the deal names. Real CIDs, a real store, real
// signatures, a real chain.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { keccak256, toHex } from "viem";
import {
  ModuleManifest,
  cidDigest,
  cidForRecord,
  encodeRecord,
  hashRecord,
  moduleRef,
  registryMismatch,
  royaltyTermsOf,
  verifyCid,
  verifyRecord,
} from "@lily/protocol";
import { loadCatalog, DIST_DIR } from "@lily/modules";
import {
  commitResult,
  getModule,
  latestModule,
  listModuleVersions,
  moduleNameCreator,
  moduleRegistryAbi,
  openDeal,
  publishModule,
  transferModuleName,
  withdraw,
} from "../../packages/chain/src/index.ts";
import { rejectsWith, startFixture, type Fixture } from "../../packages/chain/test/fixture.ts";
import { addr, assertEscrowMoved, assertUnchanged, ledger, proposal, startTestStore, providerChecks } from "./helpers.ts";
import { tempDir } from "../support/tempDir.ts";

const right = keccak256(toHex("the right result"));

let f: Fixture;
before(async () => (f = await startFixture()));
after(() => f.stop());

const cowsay = () => loadCatalog().find((m) => m.ref === "cowsay@1.0.0")!;
/** cowsay@1.0.0 as a module creator with a royalty would publish it. */
const published = () => ModuleManifest.parse({ ...cowsay().manifest, creator: addr(f.moduleCreator), royaltyBps: 500 });

describe("a module creator may NOT change a published version", () => {
  test("the module creator changes any byte of a published manifest: the bytes no longer match its CID", () => {
    const { cid, bytes } = cidForRecord(published());
    assert.equal(verifyCid(cid, bytes), true);
    for (let i = 0; i < bytes.length; i++) {
      const changed = Uint8Array.from(bytes);
      changed[i]! ^= 0x01;
      assert.equal(verifyCid(cid, changed), false, `byte ${i}`);
    }
  });

  test("the module creator republishes name@version with a higher royalty: a new CID, and the job offer and deal signed over the old one do not match it", async () => {
    const v1 = published();
    const v2 = ModuleManifest.parse({ ...v1, royaltyBps: 900 });
    assert.equal(moduleRef(v2), moduleRef(v1), "same name@version");
    const [cid1, cid2] = [cidForRecord(v1).cid, cidForRecord(v2).cid];
    assert.notEqual(cid2, cid1);

    const { store, close } = await startTestStore();
    try {
      assert.equal(await store.putRecord(v1), cid1);
      const inputs = await store.putRecord({ message: "moo" });
      const p = await proposal(f, { module: cid1, inputs, job: { moduleCreator: v1.creator!, royaltyBps: v1.royaltyBps } });
      const domain = f.deployer.domain;
      // The control: the proposal over the published version passes the provider's checks.
      await providerChecks(f, p, store);

      // Pointing the signed job offer at the new version is another job offer: its id changes,
      // and the job creator's signature does not cover it.
      const swapped = { ...p.job.offer, module: cid2 };
      assert.notEqual(hashRecord(domain, "JobOffer", swapped), p.deal.jobOffer);
      await rejectsWith(verifyRecord(domain, "JobOffer", swapped, p.job.signature), "BAD_SIGNATURE");
      const e = await rejectsWith(providerChecks(f, p, store, { job: { ...p.job, offer: swapped } }), "CONFLICT");
      assert.equal(e.field, "deal.jobOffer");

      // On chain the deal names the job offer by that id: a deal re-pointed at the new version
      // is not the deal both parties signed.
      const signed = await f.newDeal({ jobOffer: p.deal.jobOffer, moduleCreator: v1.creator!, royaltyBps: v1.royaltyBps });
      const b = await ledger(f);
      const repointed = { ...signed.deal, jobOffer: hashRecord(domain, "JobOffer", swapped), royaltyBps: v2.royaltyBps };
      await rejectsWith(openDeal(f.moduleCreator, { ...signed, deal: repointed }), "CHAIN_REVERT", "DealsInvalidSignature");
      await assertUnchanged(f, b);
    } finally {
      await close();
    }
  });

  test("the module creator overwrites its published block: the store refuses bytes that do not hash to the CID, and the old CID still gives the old manifest", async () => {
    const v1 = published();
    const v2 = ModuleManifest.parse({ ...v1, description: `${v1.description} Now better.` });
    const { store, blocks, close } = await startTestStore();
    try {
      const cid1 = await store.putRecord(v1);
      const cid2 = await store.putRecord(v2); // publishing a change makes a new block...
      assert.notEqual(cid2, cid1);
      assert.deepEqual(await store.getRecord(cid1), v1); // ...and leaves the old one as it was
      // REJECT: storing the new bytes under the old CID.
      const e = await rejectsWith(
        Promise.resolve().then(() => blocks.put(cid1, encodeRecord(v2))),
        "CID_MISMATCH",
      );
      assert.equal(e.field, "cid");
      assert.deepEqual(await store.getRecord(cid1), v1);
    } finally {
      await close();
    }
  });

  test("the module catalogue with one byte of a built manifest changed is refused (CID_MISMATCH), naming the file", () => {
    const dir = tempDir("lily-authority-dist-");
    // The WASM catalogue only: the container images beside it (~1 GB) play no part here.
    cpSync(DIST_DIR, dir, { recursive: true, filter: (src) => src !== join(DIST_DIR, "images") });
    const path = join(dir, "cowsay@1.0.0", "manifest.json");
    const text = readFileSync(path, "utf8");
    assert.ok(text.includes("A cow says"));
    writeFileSync(path, text.replace("A cow says", "A cow sayz"));
    let caught: unknown;
    try {
      loadCatalog(dir);
    } catch (e) {
      caught = e;
    }
    assert.ok(caught, "loadCatalog refused the changed manifest");
    assert.equal((caught as { code?: string }).code, "CID_MISMATCH");
    assert.equal((caught as { field?: string }).field, "modules/dist/cowsay@1.0.0/manifest.json");
  });
});

describe("a module creator's royalty goes only to the module creator named in the signed deal", () => {
  test("a deal's royalty is paid at the signed rate to the signed module creator, whatever is published later; nobody else can redirect it", async () => {
    const signed = await f.newDeal({ moduleCreator: addr(f.moduleCreator), royaltyBps: 500 });
    const { price } = signed.deal;
    const royalty = (price * 500n) / 10_000n;
    const b0 = await ledger(f);
    await f.open(signed);

    // REJECT: the same deal with the royalty redirected (to a stranger) or raised is another deal,
    // unsigned and unopened: it neither opens nor settles.
    const b1 = await ledger(f);
    for (const change of [{ moduleCreator: addr(f.stranger) }, { royaltyBps: 900 }]) {
      const altered = { ...signed.deal, ...change };
      await rejectsWith(openDeal(f.stranger, { ...signed, deal: altered }), "CHAIN_REVERT", "DealsInvalidSignature");
      await rejectsWith(commitResult(f.provider, { deal: altered, resultDigest: right }), "CHAIN_REVERT", "DealsNotOpen");
    }
    await assertUnchanged(f, b1);

    // A new manifest with a higher royalty changes nothing for a deal signed before it.
    const later = ModuleManifest.parse({ ...published(), royaltyBps: 900 });
    assert.notEqual(cidForRecord(later).cid, cidForRecord(published()).cid);

    await commitResult(f.provider, { deal: signed.deal, resultDigest: right });
    await assertEscrowMoved(f, b0, { jobCreator: -price, provider: price - royalty, moduleCreator: royalty });

    // The module creator can take out what it earned, and not a wei more.
    const b2 = await ledger(f);
    const earned = b2["escrow:moduleCreator"]!;
    await rejectsWith(withdraw(f.moduleCreator, { amount: earned + 1n }), "INSUFFICIENT_DEPOSIT", "EscrowInsufficientBalance");
    await assertUnchanged(f, b2);
    await withdraw(f.moduleCreator, { amount: earned });
  });

  test("a proposal that pays the royalty to anyone but the manifest's creator, or at another rate, is refused by the provider", async () => {
    const { store, close } = await startTestStore();
    try {
      const m = published();
      const module = await store.putRecord(m);
      const inputs = await store.putRecord({ message: "moo" });
      for (const [what, job] of [
        ["to a stranger", { moduleCreator: addr(f.stranger), royaltyBps: m.royaltyBps }],
        ["at a higher rate", { moduleCreator: m.creator!, royaltyBps: 900 }],
        ["at a lower rate", { moduleCreator: m.creator!, royaltyBps: 100 }],
      ] as const) {
        const p = await proposal(f, { module, inputs, job });
        const e = await rejectsWith(providerChecks(f, p, store), "CONFLICT");
        assert.equal(e.field, "deal.royaltyBps", what);
        assert.match(e.message, /royalty terms differ from the module's manifest/);
      }
    } finally {
      await close();
    }
  });
});

describe("on the module registry, a module creator may NOT change a published version, and nobody may publish under another's name", () => {
  /** What the registry says about cowsay: it must not move when a refused publication is tried. */
  const registryView = async () => ({
    creator: await moduleNameCreator(f.deployer, { name: "cowsay" }),
    v1: await getModule(f.deployer, { name: "cowsay", version: "1.0.0" }),
    latest: await latestModule(f.deployer, { name: "cowsay" }),
    versions: await listModuleVersions(f.deployer, { name: "cowsay" }),
  });
  const v1 = () => published();
  const cid1 = () => cidForRecord(v1()).cid;

  before(async () => {
    // The honest creator publishes cowsay@1.0.0 with the royalty its manifest states.
    await publishModule(f.moduleCreator, { name: "cowsay", version: "1.0.0", manifestCid: cid1(), royaltyBps: v1().royaltyBps });
  });

  test("the module creator republishes cowsay@1.0.0 with a higher royalty: RegistryVersionExists, and the registry still gives the published manifest and royalty", async () => {
    const v2 = ModuleManifest.parse({ ...v1(), royaltyBps: 900 });
    const before = await registryView();
    const b = await ledger(f);
    const e = await rejectsWith(
      publishModule(f.moduleCreator, { name: "cowsay", version: "1.0.0", manifestCid: cidForRecord(v2).cid, royaltyBps: v2.royaltyBps }),
      "CHAIN_REVERT",
      "RegistryVersionExists",
    );
    assert.equal(e.field, "version");
    assert.equal((e.details.args as { manifest: string }).manifest, cidDigest(cid1()));
    assert.deepEqual(await registryView(), before);
    assert.equal(before.v1.manifestCid, cid1());
    assert.deepEqual(royaltyTermsOf(before.v1), { moduleCreator: addr(f.moduleCreator), royaltyBps: 500 });
    await assertUnchanged(f, b);
  });

  test("mined anyway (gas given, no estimate), the republication reverts on chain: the refusal is the contract's own", async () => {
    const before = await registryView();
    const { walletClient, publicClient } = f.moduleCreator;
    const v2 = cidForRecord(ModuleManifest.parse({ ...v1(), description: "A better cow." })).cid;
    const hash = await walletClient!.writeContract({
      address: f.addresses.registry!,
      abi: moduleRegistryAbi,
      functionName: "publish",
      args: ["cowsay", "1.0.0", cidDigest(v2), 500],
      gas: 300_000n,
    });
    assert.equal((await publicClient.waitForTransactionReceipt({ hash })).status, "reverted");
    assert.deepEqual(await registryView(), before);
  });

  test("a stranger publishes under the creator's name (the same version, or a new one with the royalty to itself): RegistryNameTaken names the creator, and nothing changed", async () => {
    const before = await registryView();
    const b = await ledger(f);
    for (const version of ["1.0.0", "1.0.1", "99.0.0"]) {
      const forged = ModuleManifest.parse({ ...v1(), version, creator: addr(f.stranger), royaltyBps: 10_000 });
      const e = await rejectsWith(
        publishModule(f.stranger, { name: "cowsay", version, manifestCid: cidForRecord(forged).cid, royaltyBps: 10_000 }),
        "CHAIN_REVERT",
        "RegistryNameTaken",
      );
      assert.deepEqual(e.details.args, { name: "cowsay", creator: addr(f.moduleCreator) });
    }
    // Nor can it take the name by handing it to itself.
    const t = await rejectsWith(transferModuleName(f.stranger, { name: "cowsay", to: addr(f.stranger) }), "CHAIN_REVERT", "RegistryNotNameCreator");
    assert.equal((t.details.args as { caller: string }).caller, addr(f.stranger));
    assert.deepEqual(await registryView(), before);
    await assertUnchanged(f, b);
  });

  test("a stranger registers the creator's manifest under a name of its own, with the royalty to itself: the registry cannot read manifests, but that entry's terms never apply to the module (registryMismatch)", async () => {
    const manifest = v1();
    const copy = await publishModule(f.stranger, { name: "cowsay-copy", version: "1.0.0", manifestCid: cid1(), royaltyBps: 10_000 });
    // REJECT: the manifest calls itself cowsay@1.0.0, so a job naming its CID takes cowsay@1.0.0's terms, never the copy's.
    const wrong = registryMismatch(copy.entry, { cid: cid1(), manifest });
    assert.equal(wrong?.field, "module");
    assert.match(wrong!.reason, /the manifest is cowsay@1.0.0, but the registry entry is cowsay-copy@1.0.0/);
    const right = await getModule(f.deployer, { name: manifest.name, version: manifest.version });
    assert.equal(registryMismatch(right, { cid: cid1(), manifest }), undefined);
    assert.deepEqual(royaltyTermsOf(right), { moduleCreator: addr(f.moduleCreator), royaltyBps: 500 });
  });
});
