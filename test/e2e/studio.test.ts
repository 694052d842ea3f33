// The studio end to end, as a person meets it: `lily devnet` serves the built studio at its
// gateway's root, and Debian's chromium (driven by playwright-core) signs in with the devnet's
// account, finds cowsay and tiny in the marketplace, runs cowsay from the form generated from its
// input schema and reads the cow, streams a chat answer and sees its receipt, and finds the job in
// its history. Screenshots of each page go to test-results/studio/.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { startDevnet, type Devnet } from "./lilyProcess.ts";
import { openStudioBrowser, signInWithDevAccount, text, type StudioBrowser } from "./studioBrowser.ts";

let net: Devnet;
let studio: StudioBrowser;
let page: Page;
/** A screenshot of the page, once it has passed the accessibility audit (studioBrowser). */
const shot = (name: string) => studio.shot(name);

before(async () => {
  studio = await openStudioBrowser();
  page = studio.page;
  net = await startDevnet();
});
after(async () => {
  await studio?.browser.close();
  await net?.stop();
});

test("the gateway serves the studio, and the devnet's account signs in with Ethereum", async () => {
  await signInWithDevAccount(page, net);
});

test("the marketplace shows cowsay and the tiny model, and search narrows it", async () => {
  const cowsay = page.getByTestId("card-cowsay");
  const tiny = page.getByTestId("card-tiny");
  await cowsay.waitFor();
  await tiny.waitFor();
  assert.match(await text(cowsay), /module/);
  assert.match(await text(tiny), /model/);
  await shot("marketplace");
  await page.getByLabel("Search modules and models").fill("cow");
  await tiny.waitFor({ state: "detached" });
  assert.ok(await cowsay.isVisible(), "cowsay still shown");
  await page.setViewportSize({ width: 390, height: 844 });
  await shot("marketplace-phone");
  await page.setViewportSize({ width: 1280, height: 860 });
  await page.getByLabel("Search modules and models").fill("");
});

test("cowsay runs from the form generated from its input schema and its output is shown", async () => {
  await page.getByRole("link", { name: "cowsay" }).click();
  await page.getByRole("heading", { name: /Run cowsay/ }).waitFor();
  const message = page.getByLabel("message");
  assert.equal(await message.getAttribute("aria-required"), "true", "message is required by the schema");
  await message.fill("Moo from the studio");
  assert.equal(await page.getByLabel("Verification policy").inputValue(), "trust");
  await page.getByRole("button", { name: "Run cowsay" }).click();
  const stdout = page.getByTestId("stdout");
  await stdout.waitFor({ timeout: 120_000 });
  assert.match(await text(stdout), /Moo from the studio/);
  assert.match(await text(stdout), /\(oo\)/, "the cow is drawn");
  assert.ok((await text(page.getByTestId("result-cid"))).length > 10, "the result's CID is shown");
  assert.match(await text(page.getByTestId("deal-id")), /^0x[0-9a-f]{64}$/);
  assert.ok((await page.getByTestId("stages").locator("li").count()) >= 3, "the job's stages were shown as they happened");
  await shot("run-cowsay");
  // The run leads to the job's own page, with its signed records.
  await page.getByTestId("job-page-link").click();
  await page.getByRole("heading", { name: "Signed records" }).waitFor();
});

test("a chat answer streams in and carries its receipt", async () => {
  await page.getByRole("link", { name: "Chat" }).click();
  await page.getByRole("heading", { name: "Chat" }).waitFor();
  await page.getByLabel("Model").selectOption("tiny");
  await page.getByLabel("Your message").fill("Say something.");
  await page.getByRole("button", { name: "Send" }).click();
  const receipt = page.getByTestId("receipt");
  await receipt.waitFor({ timeout: 120_000 });
  const answer = await text(page.getByTestId("message-assistant").locator(".text"));
  assert.ok(answer.trim().length > 0, "the model answered");
  assert.ok((await text(page.getByTestId("receipt-record"))).length > 10, "the answer record's CID is shown");
  const link = await receipt.getByRole("link", { name: "Open the signed receipt" }).getAttribute("href");
  const served = await fetch(link!);
  assert.equal(served.status, 200, "the receipt link serves the signed record");
  await shot("chat");
});

test("the job is in the history", async () => {
  await page.getByRole("link", { name: "History" }).click();
  const row = page.getByTestId("job-row").filter({ hasText: "cowsay" });
  await row.first().waitFor();
  await shot("history");
});
