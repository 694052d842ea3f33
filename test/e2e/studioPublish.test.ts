// Publishing from the studio, as a module creator meets it: `lily module init` and `lily module
// build` make a WASM module; in chromium, signed in with the devnet's account, the Publish page
// refuses an artifact that does not match the manifest's CID, then publishes the right one (the
// store through the gateway, name@version on chain from the browser's own account, the
// transaction shown); the module is in the marketplace and has a page with its versions, creator,
// inputs and runs; publishing the same name@version again is refused, naming the version.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { formatAbiItem } from "viem/utils";
import { parseAbi } from "viem";
import { moduleRegistryAbi } from "@lily/chain";
import { REGISTRY_ABI_SIGNATURES } from "../../packages/studio/src/publish/registry.ts";
import { tempDir } from "../support/tempDir.ts";
import { lily, startDevnet, type Devnet } from "./lilyProcess.ts";
import { gatewayUrlOf, openStudioBrowser, signInWithDevAccount, text, type StudioBrowser } from "./studioBrowser.ts";

const NAME = "studio-hello";
const REF = `${NAME}@0.1.0`;

let net: Devnet;
let studio: StudioBrowser;
let page: Page;
let dir: string;
/** A screenshot of the page, once it has passed the accessibility audit (studioBrowser). */
const shot = (name: string) => studio.shot(name);

before(async () => {
  studio = await openStudioBrowser();
  page = studio.page;
  net = await startDevnet();
  dir = join(tempDir("lily-studio-publish-"), NAME);
});
after(async () => {
  await studio?.browser.close();
  await net?.stop();
});

test("the studio's registry ABI is the compiled contract's (publish and its errors, with their names)", () => {
  const compiled = new Set(moduleRegistryAbi.map((i) => formatAbiItem(i as never, { includeName: true })));
  for (const item of parseAbi(REGISTRY_ABI_SIGNATURES)) {
    const sig = formatAbiItem(item, { includeName: true });
    assert.ok(compiled.has(sig), `${sig} is in contracts/'s ModuleRegistry`);
  }
});

test("a module is scaffolded and built for publishing", async () => {
  const init = await lily(net.home, ["module", "init", NAME, "--dir", dir]);
  assert.equal(init.code, 0, init.stderr);
  const built = await lily(net.home, ["module", "build", dir]);
  assert.equal(built.code, 0, built.stderr);
});

test("the Publish page refuses an artifact that does not match the manifest's CID, before sending anything", async () => {
  await signInWithDevAccount(page, net);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Publish" }).click();
  await page.getByRole("heading", { name: "Publish a module" }).waitFor();
  const other = join(dir, "build", "other.wasm");
  writeFileSync(other, new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
  await page.getByLabel("Manifest (manifest.json)").setInputFiles(join(dir, "build", "manifest.json"));
  await page.getByLabel("Artifact (module.wasm)").setInputFiles(other);
  const problems = page.getByTestId("pick-problems");
  await problems.waitFor();
  assert.match(await text(problems), /CID mismatch: other\.wasm hashes to bafkrei\w+, but the manifest names bafkrei\w+/);
  assert.equal(await page.getByRole("button", { name: `Publish ${REF}` }).isDisabled(), true, "nothing can be sent");
});

test("the right artifact publishes: store through the gateway, name@version on chain from the browser's account", async () => {
  await page.getByLabel("Artifact (module.wasm)").setInputFiles(join(dir, "build", "module.wasm"));
  await page.getByTestId("artifact-check").filter({ hasText: "✓ module.wasm matches" }).waitFor();
  assert.equal(await page.getByTestId("pick-problems").count(), 0);
  await shot("publish");
  await page.getByRole("button", { name: `Publish ${REF}` }).click();
  const done = page.getByTestId("publish-done");
  await done.waitFor({ timeout: 60_000 });
  assert.match(await text(done), new RegExp(`Published ${REF} in block \\d+ \\(transaction 0x[0-9a-f]{64}\\)`));
  assert.match(await text(page.getByTestId("publish-tx")), /transaction 0x[0-9a-f]{64}/);
  assert.equal(await page.locator('[data-testid="publish-steps"] li[data-state="done"]').count(), 5, "every step done");
  await page.setViewportSize({ width: 390, height: 844 });
  await shot("publish-done-phone");
  await page.setViewportSize({ width: 1280, height: 860 });

  // The chain says the browser's account (the devnet's job creator) registered it, not the gateway.
  const show = await lily(net.home, ["module", "show", REF, "--json"]);
  assert.equal(show.code, 0, show.stderr);
  const shown = JSON.parse(show.stdout) as { manifestCid: string; entry: { creator: string } };
  assert.equal(shown.entry.creator.toLowerCase(), net.state.jobCreator.toLowerCase());
  assert.equal(shown.manifestCid, await text(page.getByTestId("manifest-cid")));
  const gateway = net.state.roles.gateway?.address;
  assert.notEqual(shown.entry.creator.toLowerCase(), gateway?.toLowerCase(), "the gateway did not publish it");
});

test("the module is in the marketplace, and its page shows its versions, creator, inputs and runs", async () => {
  const card = page.getByTestId(`card-${NAME}`);
  // The catalogue is read again after 5 s: reload until the new module shows.
  await page.goto(`${gatewayUrlOf(net)}/#/`);
  for (let i = 0; i < 30 && !(await card.isVisible()); i++) {
    await page.reload();
    await page.getByRole("heading", { name: "Marketplace" }).waitFor();
    await card.waitFor({ timeout: 1_000 }).catch(() => undefined);
  }
  await card.getByRole("link", { name: "Details" }).click();
  const about = page.getByTestId("module-page");
  await about.waitFor();
  assert.match(await text(page.getByRole("heading", { level: 1 })), new RegExp(`${NAME}\\s*0\\.1\\.0`));
  assert.equal((await text(page.getByTestId("module-creator"))).toLowerCase(), net.state.jobCreator.toLowerCase());
  assert.match(await text(page.getByTestId("module-versions")), /0\.1\.0/);
  assert.match(await text(page.getByTestId("module-inputs")), /who/);
  assert.match(await text(page.getByTestId("module-providers")), /^\d+$/);
  const runs = page.getByTestId("module-runs");
  await runs
    .getByText(/No runs yet|does not list the network's deals|Deal/)
    .first()
    .waitFor();
  await shot("module");
  await page.getByRole("link", { name: `Run ${NAME}` }).click();
  await page.waitForURL(new RegExp(`#/modules/${NAME}$`));
});

test("publishing the same name@version again is refused, naming the version, and uploads nothing", async () => {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Publish" }).click();
  await page.getByLabel("Manifest (manifest.json)").setInputFiles(join(dir, "build", "manifest.json"));
  await page.getByLabel("Artifact (module.wasm)").setInputFiles(join(dir, "build", "module.wasm"));
  await page.getByRole("button", { name: `Publish ${REF}` }).click();
  const refusal = page.getByTestId("publish-refusal");
  await refusal.waitFor({ timeout: 30_000 });
  assert.match(await text(refusal), new RegExp(`${REF} is already published with this very manifest; a published version never changes`));
  const state = (step: string) => page.locator(`[data-step="${step}"]`).getAttribute("data-state");
  assert.equal(await state("registry"), "failed");
  assert.equal(await state("artifact"), "waiting", "nothing was uploaded");
  await shot("publish-refused");
});

test("publishing under a name another account holds is refused, naming its holder, and uploads nothing", async () => {
  const taken = join(dir, "..", "studio-taken");
  assert.equal((await lily(net.home, ["module", "init", "studio-taken", "--dir", taken])).code, 0);
  const first = await lily(net.home, ["module", "publish", taken, "--as", "provider-1", "--json"]);
  assert.equal(first.code, 0, first.stderr);
  const holder = (JSON.parse(first.stdout) as { entry: { creator: string } }).entry.creator;
  // The devnet's account builds its own next version under the same name.
  const path = join(taken, "manifest.json");
  writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(path, "utf8")), version: "0.2.0" }, null, 2));
  assert.equal((await lily(net.home, ["module", "build", taken])).code, 0);

  await page.getByLabel("Manifest (manifest.json)").setInputFiles(join(taken, "build", "manifest.json"));
  await page.getByLabel("Artifact (module.wasm)").setInputFiles(join(taken, "build", "module.wasm"));
  await page.getByRole("button", { name: "Publish studio-taken@0.2.0" }).click();
  const refusal = page.getByTestId("publish-refusal");
  await refusal.filter({ hasText: "studio-taken" }).waitFor({ timeout: 30_000 });
  assert.match(
    await text(refusal),
    new RegExp(`The name studio-taken belongs to ${holder}, who published under it first; nobody else may publish under it`, "i"),
  );
  assert.equal(await page.locator('[data-step="artifact"]').getAttribute("data-state"), "waiting", "nothing was uploaded");
});
