// Ampli end to end, as a module creator and a job creator meet it: scaffold a module, publish it,
// find it in the registry with live prices, run it by name, by name@version and by manifest CID;
// a published version cannot be replaced, nobody else can publish under the name, and a job that
// needs a GPU no provider has is refused with the reason, before anything is locked.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { privateKeyToAccount } from "viem/accounts";
import { createLilyClient, devAccounts } from "@lily/chain";
import { ModuleManifest, cidForRecord, parse } from "@lily/protocol";
import { publishBuiltModule } from "@lily/sdk";
import { StoreClient } from "@lily/store";
import { lily, startDevnet, type Devnet } from "./lilyProcess.ts";

let net: Devnet;
const dir = () => join(net.home, "hello");

before(async () => {
  net = await startDevnet();
});
after(() => net?.stop());

function editManifest(change: (m: Record<string, unknown>) => void): void {
  const path = join(dir(), "manifest.json");
  const m = JSON.parse(readFileSync(path, "utf8"));
  change(m);
  writeFileSync(path, JSON.stringify(m, null, 2));
}

test("a new module is scaffolded, built, published, listed with live prices and run by name, by version and by CID", async () => {
  const init = await lily(net.home, ["module", "init", "hello", "--dir", dir()]);
  assert.equal(init.code, 0, init.stderr);
  const pub = await lily(net.home, ["module", "publish", dir(), "--json"]);
  assert.equal(pub.code, 0, pub.stderr);
  const published = JSON.parse(pub.stdout) as { ref: string; manifestCid: string; published: boolean };
  assert.equal(published.ref, "hello@0.1.0");
  assert.equal(published.published, true);

  // Providers follow the registry: the new module is offered without a restart.
  let listed: { name: string; latest: string; manifestCid: string; prices: { providers: number } }[] = [];
  for (let i = 0; i < 40; i++) {
    const list = await lily(net.home, ["module", "list", "--json"]);
    assert.equal(list.code, 0, list.stderr);
    listed = JSON.parse(list.stdout);
    if (listed.find((m) => m.name === "hello")?.prices.providers === 2) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const hello = listed.find((m) => m.name === "hello");
  assert.deepEqual(
    { latest: hello?.latest, cid: hello?.manifestCid, providers: hello?.prices.providers },
    { latest: "0.1.0", cid: published.manifestCid, providers: 2 },
  );
  assert.ok(
    listed.some((m) => m.name === "cowsay"),
    "the devnet's built-in modules come from the registry too",
  );

  for (const ref of ["hello", "hello@0.1.0", published.manifestCid]) {
    const run = await lily(net.home, ["run", ref, "-i", "who=Ada"]);
    assert.equal(run.code, 0, `${ref}: ${run.stderr}`);
    assert.match(run.stdout, /hello, Ada/, ref);
  }

  const show = await lily(net.home, ["module", "show", "hello"]);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, /versions: 0\.1\.0/);
});

test("publishing the same manifest again changes nothing; a different manifest under a published version is refused", async () => {
  const again = await lily(net.home, ["module", "publish", dir(), "--json"]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(JSON.parse(again.stdout).published, false);

  editManifest((m) => (m.description = "a second, different hello"));
  const changed = await lily(net.home, ["module", "publish", dir()]);
  assert.notEqual(changed.code, 0);
  assert.match(changed.stderr, /RegistryVersionExists|already published/i);
  const show = await lily(net.home, ["module", "show", "hello@0.1.0", "--json"]);
  assert.notEqual(JSON.parse(show.stdout).manifest.description, "a second, different hello", "the published version is unchanged");
});

test("nobody else can publish under a name its creator holds", async () => {
  editManifest((m) => (m.version = "0.2.0"));
  const other = await lily(net.home, ["module", "publish", dir(), "--as", "provider-1"]);
  assert.notEqual(other.code, 0);
  assert.match(other.stderr, /name hello belongs to 0x[0-9a-fA-F]{40}.*nobody else may publish/);
  const show = await lily(net.home, ["module", "show", "hello", "--json"]);
  assert.equal(JSON.parse(show.stdout).manifest.version, "0.1.0", "no 0.2.0 was published");
});

test("a job that needs a GPU is refused by CPU-only providers, with the reason, and nothing is locked", async () => {
  editManifest((m) => {
    m.name = "gpu-hello";
    m.version = "1.0.0";
    (m.resources as Record<string, number>).gpu = 1;
    (m.resources as Record<string, number>).vramMb = 1024;
  });
  const pub = await lily(net.home, ["module", "publish", dir()]);
  assert.equal(pub.code, 0, pub.stderr);
  // Offered by both providers (they follow the registry), but neither has a GPU.
  for (let i = 0; i < 40; i++) {
    const show = await lily(net.home, ["module", "show", "gpu-hello", "--json"]);
    if (JSON.parse(show.stdout).prices.providers === 2) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const before = await lily(net.home, ["balance", "--json"]);
  const run = await lily(net.home, ["run", "gpu-hello", "-i", "who=Ada"]);
  assert.equal(run.code, 6, run.stderr);
  assert.match(run.stderr, /gpu/i);
  const afterRun = await lily(net.home, ["balance", "--json"]);
  assert.equal(afterRun.stdout, before.stdout, "no funds were locked");
});

test("with no Docker on the network, a job for a container module says why in one line, and nothing is locked", async () => {
  // A container module published by someone else: its (tiny) archive and manifest in the store, registered on chain.
  const archive = join(net.home, "image.tar");
  writeFileSync(archive, "not really an image: no provider here will ever load it");
  const store = new StoreClient(net.network.storeUrl);
  const archiveCid = await store.putFile(archive);
  const manifest = parse(
    ModuleManifest,
    {
      name: "boxed",
      version: "1.0.0",
      description: "a container module",
      executor: { kind: "docker", image: `sha256:${"ab".repeat(32)}`, archive: archiveCid, command: ["/lily/run"] },
      inputs: {},
      resources: { cpu: 1, memoryMb: 64, timeoutSeconds: 30 },
      determinism: "deterministic",
      license: "MIT",
    },
    "manifest",
  );
  const record = cidForRecord(manifest);
  const chain = createLilyClient({ rpcUrl: net.network.rpcUrl, account: privateKeyToAccount(devAccounts[0]!), addresses: net.network });
  await publishBuiltModule({ chain, store }, { manifest, manifestCid: record.cid, manifestBytes: record.bytes, artifact: { path: archive } });

  const before = await lily(net.home, ["balance", "--json"]);
  const run = await lily(net.home, ["run", "boxed"]);
  assert.equal(run.code, 6, run.stderr);
  assert.match(run.stderr.split("\n").find((l) => l.startsWith("error:")) ?? "", /container module boxed .*Docker engine/);
  assert.equal((await lily(net.home, ["balance", "--json"])).stdout, before.stdout, "no funds were locked");
});
