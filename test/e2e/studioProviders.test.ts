// The studio's Providers pages end to end: a real `lily devnet` with one compute provider, Debian's
// chromium driven by playwright-core. The network view lists the provider online with its offer;
// its dashboard shows what it has earned; after a cowsay job runs from the form and settles, the
// dashboard's number, its chart's data and the chart's table all move by that deal's payment,
// without a reload. Both pages pass the accessibility audit and fit a 390 px phone. Screenshots go
// to test-results/studio/.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { formatUnits, parseUnits } from "viem";
import { startDevnet, until, type Devnet } from "./lilyProcess.ts";
import { gatewayUrlOf, openStudioBrowser, signInWithDevAccount, text, type StudioBrowser } from "./studioBrowser.ts";

let net: Devnet;
let studio: StudioBrowser;
let page: Page;
let provider: string;

/** A screenshot of the page, once it has passed the accessibility audit (studioBrowser). */
const shot = (name: string) => studio.shot(name);
/** "1.5 LILY" as base units. */
const baseUnits = (shown: string): bigint => parseUnits(shown.replace(/\s*LILY\s*$/, "").trim(), 18);
/**
 * What sticks out past the viewport's right edge (nothing should, at a phone's width: wide tables
 * scroll inside their own region): the outermost such elements, as tag.class, [] when it fits.
 */
const overflowing = (p: Page) =>
  p.evaluate(() => {
    const out: string[] = [];
    for (const el of Array.from(document.querySelectorAll("body *"))) {
      if (el.closest(".table-wrap") && !el.classList.contains("table-wrap")) continue;
      if (
        el.getBoundingClientRect().right > window.innerWidth + 1 &&
        !(el.parentElement && el.parentElement.getBoundingClientRect().right > window.innerWidth + 1)
      )
        out.push(
          `${el.tagName.toLowerCase()}.${Array.from(el.classList).join(".")} (${Math.round(el.getBoundingClientRect().right)} px) ${(el.textContent ?? "").slice(0, 40)}`,
        );
    }
    return out;
  });

before(async () => {
  studio = await openStudioBrowser();
  page = studio.page;
  net = await startDevnet(["--providers", "1"]);
  provider = net.state.roles["provider-1"]!.address!;
});
after(async () => {
  await studio?.browser.close();
  await net?.stop();
});

test("the network view lists the provider online, its open offer, and the gas spent", async () => {
  await page.goto(`${gatewayUrlOf(net)}/#/providers`);
  await page.getByRole("heading", { name: "Providers", level: 1 }).waitFor();
  const row = page.locator(`[data-testid="provider-row"][data-address="${provider}"]`);
  await row.waitFor();
  assert.match(await text(row), /online/);
  assert.ok((await page.getByTestId("offers-table").locator("tbody tr").count()) >= 1, "its open offer is listed");
  assert.match(await text(page.getByTestId("network-gas")), /\d[\d,]* in \d+ transactions/);
  await shot("providers-network");
  await page.setViewportSize({ width: 390, height: 844 });
  assert.deepEqual(await overflowing(page), [], "the network view fits a phone's width (its tables scroll inside their own region)");
  await shot("providers-network-phone");
  await page.setViewportSize({ width: 1280, height: 860 });
});

test("a provider's earnings move on its dashboard after a job settles: the number, the chart's data and its table", async () => {
  // The dashboard, before the job.
  await page.locator(`[data-testid="provider-row"][data-address="${provider}"]`).getByRole("link").click();
  await page.getByRole("heading", { name: /^Provider / }).waitFor();
  assert.equal(await text(page.getByTestId("provider-online")), "Online");
  const earnedBefore = baseUnits(await text(page.getByTestId("provider-earned")));
  const pointsBefore = Number(
    (await page
      .getByTestId("earnings-chart")
      .getAttribute("data-points")
      .catch(() => null)) ?? 0,
  );
  const dashboard = page.url();

  // A job, run from the form as a person would (the devnet has this one compute provider).
  await signInWithDevAccount(page, net);
  await page.getByRole("link", { name: "cowsay" }).click();
  await page.getByLabel("message").fill("Moo for the provider's dashboard");
  await page.getByRole("button", { name: "Run cowsay" }).click();
  await page.getByTestId("stdout").waitFor({ timeout: 120_000 });
  const deal = await text(page.getByTestId("deal-id"));
  assert.match(deal, /^0x[0-9a-f]{64}$/);

  // Back on the dashboard: it reads the network again every few seconds, so no reload is needed.
  await page.goto(dashboard);
  await page.getByRole("heading", { name: /^Provider / }).waitFor();
  const earned = page.getByTestId("provider-earned");
  const earnedAfter = await until(
    "the dashboard's earnings to move",
    async () => {
      const shown = baseUnits(await text(earned));
      return shown > earnedBefore ? shown : undefined;
    },
    60_000,
  );
  const chart = page.getByTestId("earnings-chart");
  await chart.locator("canvas").first().waitFor();
  const pointsAfter = Number(await chart.getAttribute("data-points"));
  assert.equal(pointsAfter, pointsBefore + 1, "the chart has one more point: this deal's payment");

  // The table behind the chart: its newest row is this deal, paid the difference.
  await page.getByText("The chart's numbers as a table").click();
  const rows = page.getByTestId("earnings-table").locator("tbody tr");
  assert.equal(await rows.count(), pointsAfter);
  const last = rows.last();
  assert.ok((await last.locator("td").nth(1).getAttribute("title")) === deal, "the newest payment is this job's deal");
  const paid = baseUnits(await text(last.locator("td").nth(2)));
  assert.equal(earnedAfter - earnedBefore, paid, `the total moved by the payment (${formatUnits(paid, 18)} LILY)`);
  assert.equal(baseUnits(await text(last.locator("td").nth(3))), earnedAfter, "the table's total is the number shown");

  // The same number as the gateway's JSON, which reads it from the chain's DealSettled events.
  const api = (await (await fetch(`${gatewayUrlOf(net)}/v1/providers/${provider}`)).json()) as { earned: string; earnings: { id: string }[] };
  assert.equal(BigInt(api.earned), earnedAfter);
  assert.equal(api.earnings.at(-1)?.id, deal);
  assert.ok(
    (await page
      .getByTestId("deal-row")
      .filter({ has: page.locator(`[title="${deal}"]`) })
      .count()) === 1,
    "the deal is among its recent deals",
  );
  await shot("provider-dashboard");

  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(300); // the chart follows its container's width
  assert.deepEqual(await overflowing(page), [], "the dashboard fits a phone's width");
  const chartWidth = await chart.evaluate((el) => el.getBoundingClientRect().width);
  assert.ok(chartWidth <= 390, `the chart shrank to the phone (${chartWidth} px)`);
  await shot("provider-dashboard-phone");
  await page.setViewportSize({ width: 1280, height: 860 });
});

test("a malformed address on the dashboard says so instead of asking the gateway", async () => {
  await page.goto(`${gatewayUrlOf(net)}/#/providers/0x1234`);
  assert.match(await text(page.getByRole("alert")), /not an address/);
  const res = await fetch(`${gatewayUrlOf(net)}/v1/providers/0x1234`);
  assert.equal(res.status, 400);
  assert.equal(((await res.json()) as { error: { param: string } }).error.param, "address");
});
