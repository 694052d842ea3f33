// What every studio end-to-end test needs: the built studio (LILY_STUDIO_DIR or
// packages/studio/dist), Debian's chromium driven by playwright-core, a page signed in with the
// devnet's account, and screenshots saved to test-results/studio/.
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Locator, type Page } from "playwright-core";
import type { Devnet } from "./lilyProcess.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const SHOTS = fileURLToPath(new URL("../../test-results/studio/", import.meta.url));
const STUDIO_DIR = process.env.LILY_STUDIO_DIR ?? fileURLToPath(new URL("../../packages/studio/dist/", import.meta.url));

const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

export const text = async (l: Locator): Promise<string> => (await l.textContent()) ?? "";
export const gatewayUrlOf = (net: Devnet): string => (net.network as unknown as { gatewayUrl: string }).gatewayUrl;

export interface StudioBrowser {
  browser: Browser;
  page: Page;
  /** A full-page screenshot saved as test-results/studio/<name>.png, once the page has passed the accessibility audit. */
  shot(name: string): Promise<unknown>;
}

/** Chromium with one desktop-sized page; throws when the studio was not built. */
export async function openStudioBrowser(): Promise<StudioBrowser> {
  assert.ok(existsSync(join(STUDIO_DIR, "index.html")), `build the studio first (npm run build:studio): no ${STUDIO_DIR}index.html`);
  mkdirSync(SHOTS, { recursive: true });
  // --no-sandbox: CI runs as root, where chromium's sandbox refuses to start.
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  page.setDefaultTimeout(30_000);
  const shot = async (name: string) => {
    assert.deepEqual(await accessibilityViolations(page), [], `the ${name} page has no serious accessibility failures`);
    return page.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true });
  };
  return { browser, page, shot };
}

/** Opens the studio at the devnet's gateway and signs in with the devnet's funded account. */
export async function signInWithDevAccount(page: Page, net: Devnet): Promise<void> {
  await page.goto(`${gatewayUrlOf(net)}/`);
  await page.getByRole("heading", { name: "Marketplace" }).waitFor();
  await page.getByRole("button", { name: "Use the devnet's account" }).click();
  const signedIn = page.getByTestId("signed-in");
  await signedIn.waitFor();
  assert.equal((await signedIn.getAttribute("title"))?.toLowerCase(), net.state.jobCreator.toLowerCase(), "signed in as the devnet's job creator");
}

/**
 * The page's serious and critical accessibility failures by axe-core's WCAG 2.1 A and AA rules
 * (missing labels, contrast, names of buttons and links, landmarks...), one line each; [] is a pass.
 */
export async function accessibilityViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => "axe" in window))) await page.addScriptTag({ path: AXE });
  const results = await page.evaluate(async () => {
    const axe = (
      window as unknown as { axe: { run(o: unknown): Promise<{ violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] }> } }
    ).axe;
    return axe.run({ runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } });
  });
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}
