// The studio's Run page end to end with a container module, as a person meets it: a devnet on the
// tests' Docker engine (test/support/docker.ts) with the built AI images, chromium signed in with
// the devnet's account, an image of a known sentence (rendered with ImageMagick) chosen with the
// file picker and dropped on the drop zone (uploaded to the store, its CID shown), the quote read
// before paying, then the OCR module run through the whole network: every step with its
// transaction, and the recognised sentence on the page. The faces module's boxes are drawn over
// the astronaut portrait. Screenshots go to test-results/studio/ (run-ocr-form, run-ocr-result...).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { cidForBytes } from "@lily/protocol";
import { testDocker } from "../support/docker.ts";
import { tempDir } from "../support/tempDir.ts";
import { astronautPng, renderText } from "../modules/support/fixtures.ts";
import { buildImages } from "../../modules/scripts/buildImages.ts";
import { startDevnet, type Devnet } from "./lilyProcess.ts";
import { gatewayUrlOf, openStudioBrowser, signInWithDevAccount, text, type StudioBrowser } from "./studioBrowser.ts";

const docker = await testDocker();
const skip = "skip" in docker ? docker.skip : false;
const work = tempDir("lily-studio-run-e2e-");
const SENTENCE = "Lily runs jobs on a network";

let net: Devnet;
let studio: StudioBrowser;
let page: Page;
/** A screenshot of the page, once it has passed the accessibility audit (studioBrowser). */
const shot = (name: string) => studio.shot(name);

before(async () => {
  if ("skip" in docker) return;
  studio = await openStudioBrowser();
  page = studio.page;
  // Built once (about 3 minutes, as root); found built, or loaded back from the archives, after that.
  await buildImages({ engine: docker.engine });
  net = await startDevnet(["--docker", docker.endpoint.url]);
});
after(async () => {
  await studio?.browser.close();
  await net?.stop();
});

/** Drop `bytes` as a file named `name` on the drop zone, as a drag from the desktop would. */
async function dropFile(testId: string, name: string, type: string, bytes: Uint8Array): Promise<void> {
  const transfer = await page.evaluateHandle(
    ({ name, type, b64 }) => {
      const data = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([data], name, { type }));
      return dt;
    },
    { name, type, b64: Buffer.from(bytes).toString("base64") },
  );
  await page.getByTestId(testId).dispatchEvent("drop", { dataTransfer: transfer });
}

test("the OCR module's form takes an image by picker or by drop, stores it, and quotes the job before paying", { skip }, async () => {
  await signInWithDevAccount(page, net);
  await page.goto(`${gatewayUrlOf(net)}/#/modules/ocr`);
  await page.getByRole("heading", { name: /Run ocr/ }).waitFor();
  const png = renderText(SENTENCE, work);
  const path = join(work, "sentence.png");
  writeFileSync(path, png);

  // The keyboard's way: a labelled native file input.
  const picker = page.getByLabel("Choose a file for image, or drop one on this box");
  await picker.setInputFiles(path);
  const status = page.getByTestId("file-status-image");
  await page.locator('[data-testid="file-status-image"][data-state="stored"]').waitFor();
  assert.match(await text(status), new RegExp(`sentence\\.png .* stored as ${cidForBytes(png)}`), "the CID of exactly the bytes chosen");

  // The mouse's way: the same bytes dropped on the zone are the same CID.
  await dropFile("drop-image", "dropped.png", "image/png", png);
  await page.locator('[data-testid="file-status-image"][data-state="stored"]').filter({ hasText: "dropped.png" }).waitFor();
  assert.match(await text(status), new RegExp(cidForBytes(png)));

  // The quote, for the form as it stands: trust catches nothing, replicate:2 pays two providers.
  const quote = page.getByTestId("quote");
  await quote.getByTestId("quote-cost").waitFor();
  assert.match(await text(page.getByTestId("quote-catch")), /^0\.0% for one job/);
  await page.getByLabel("Verification policy").selectOption("replicate");
  await page.getByLabel("Policy parameter (optional)").fill("2");
  await page
    .getByTestId("quote-catch")
    .filter({ hasText: /^100\.0% for one job/ })
    .waitFor();
  await page.getByLabel("Verification policy").selectOption("trust");
  await page
    .getByTestId("quote-catch")
    .filter({ hasText: /^0\.0% for one job/ })
    .waitFor();
  await shot("run-ocr-form");
});

test("OCR runs on the uploaded image through the network: each step with its transaction, then the sentence read on the page", { skip }, async () => {
  await page.getByRole("button", { name: "Run ocr" }).click();
  const read = page.getByTestId("file-text.txt").locator("pre");
  await read.waitFor({ timeout: 240_000 });
  assert.equal((await text(read)).trim(), SENTENCE, "Tesseract read the sentence, shown as text");
  const words = await text(page.getByTestId("file-words.json").locator("pre"));
  assert.match(words, /^\[\n|^\{\n/, "words.json is pretty-printed");
  assert.ok(words.includes('"network"'), words.slice(0, 200));

  const stages = page.getByTestId("stages");
  for (const s of ["offered", "matched", "opened", "committed", "settled"]) await stages.locator(`li[data-stage="${s}"]`).waitFor();
  assert.match(await text(stages.locator('li[data-stage="opened"]')), /tx 0x[0-9a-f]{64}/, "the opening's transaction");
  assert.match(await text(stages.locator('li[data-stage="committed"]')), /tx 0x[0-9a-f]{64}/, "the commitment's transaction");
  await stages
    .locator('li[data-stage="settled"]')
    .filter({ hasText: /settled: the provider was paid tx 0x[0-9a-f]{64}/ })
    .waitFor();
  const events = await page.getByTestId("tx-row").allTextContents();
  for (const e of ["DealOpened", "ResultCommitted", "DealSettled"])
    assert.ok(
      events.some((r) => r.startsWith(e)),
      `${e} among ${events.join(" | ")}`,
    );
  assert.match(await text(page.getByTestId("deal-id")), /^0x[0-9a-f]{64}$/);
  assert.ok((await text(page.getByTestId("result-cid"))).startsWith("bagu"), "the result's CID");

  // Every file downloads as its bytes.
  const download = page.waitForEvent("download");
  await page.getByTestId("file-text.txt").getByRole("link", { name: "Download text.txt" }).click();
  const saved = await (await download).path();
  assert.equal(readFileSync(saved, "utf8").trim(), SENTENCE);
  await shot("run-ocr-result");
  await page.setViewportSize({ width: 390, height: 844 });
  await shot("run-ocr-result-phone");
  await page.setViewportSize({ width: 1280, height: 860 });
});

test("faces: the boxes from the module's JSON are drawn over the portrait sent", { skip }, async () => {
  await page.goto(`${gatewayUrlOf(net)}/#/modules/faces`);
  await page.getByRole("heading", { name: /Run faces/ }).waitFor();
  const path = join(work, "astronaut.png");
  writeFileSync(path, astronautPng());
  await page.getByLabel("Choose a file for image, or drop one on this box").setInputFiles(path);
  await page.locator('[data-testid="file-status-image"][data-state="stored"]').waitFor();
  await page.getByRole("button", { name: "Run faces" }).click();
  const overlay = page.getByTestId("faces-overlay");
  await overlay.waitFor({ timeout: 240_000 });
  assert.equal(await overlay.getByTestId("face-box").count(), 1, "one face, one box");
  assert.match(await text(overlay.locator("figcaption")), /^1 face found/);
  await page.getByTestId("file-faces.png").getByRole("img").waitFor();
  await shot("run-faces-result");
});
