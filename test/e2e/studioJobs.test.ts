// The studio's History and job pages end to end, against a real `lily devnet` with a cheating
// provider on it (`--adversary cheat`: half the honest price, so it wins the job, and a fabricated
// result). Chromium, signed in with the devnet's account, runs cowsay from the Run page under the
// optimistic policy; the job appears in the History with its status, cost and verification; its page
// shows every signed record (job offer, resource offer, deal, result) with verified signers and every
// transaction with its hash and gas, live as the job goes on; a challenge from the page reaches the
// mediator, who re-runs the job and slashes the cheater, and the page shows it. A second challenge,
// and one after a window closed, are refused by the gateway and change nothing on chain.
// Screenshots: test-results/studio/history.png, job-page.png, job-challenged.png, job-page-phone.png.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { createLilyClient, dealState, type LilyClient } from "@lily/chain";
import { startDevnet, type Devnet } from "./lilyProcess.ts";
import { gatewayUrlOf, openStudioBrowser, signInWithDevAccount, text, type StudioBrowser } from "./studioBrowser.ts";

let net: Devnet;
let chain: LilyClient;
let studio: StudioBrowser;
let page: Page;
let jobId = "";
let dealId = "";

/** A screenshot of the page, once it has passed the accessibility audit (studioBrowser). */
const shot = (name: string) => studio.shot(name);

/** The signed-in session's bearer token, as the studio keeps it. */
const sessionToken = async (): Promise<string> =>
  page.evaluate(() => (JSON.parse(sessionStorage.getItem("lily.studio.credentials") ?? "{}") as { token: string }).token);

async function gateway(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${gatewayUrlOf(net)}${path}`, {
    method,
    headers: { authorization: `Bearer ${await sessionToken()}`, ...(body !== undefined && { "content-type": "application/json" }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

before(async () => {
  studio = await openStudioBrowser();
  page = studio.page;
  net = await startDevnet(["--sign-window", "5", "--adversary", "cheat"]);
  chain = createLilyClient({ rpcUrl: net.network.rpcUrl, addresses: net.network });
});
after(async () => {
  await studio?.browser.close();
  await net?.stop();
});

test("a job run from the studio under the optimistic policy is in the history with its status, cost and verification", async () => {
  await signInWithDevAccount(page, net);
  await page.goto(`${gatewayUrlOf(net)}/#/modules/cowsay`);
  await page.getByRole("heading", { name: /Run cowsay/ }).waitFor();
  await page.getByLabel("message").fill("the truth");
  await page.getByLabel("Verification policy").selectOption("optimistic");
  await page.getByLabel("Policy parameter (optional)").fill("10m");
  await page.getByRole("button", { name: "Run cowsay" }).click();
  await page.getByTestId("stdout").waitFor({ timeout: 180_000 });
  assert.doesNotMatch(await text(page.getByTestId("stdout")), /the truth/, "the cheater's result is fabricated");

  await page.getByRole("link", { name: "History" }).click();
  const row = page.getByTestId("job-row").filter({ hasText: "cowsay" }).first();
  await row.waitFor();
  jobId = (await row.getAttribute("data-job"))!;
  assert.match(jobId, /^0x[0-9a-f]{64}$/);
  assert.equal(await text(row.getByTestId("job-status")), "result committed");
  assert.match(await text(row.getByTestId("job-cost")), /^0\.5 LILY, locked$/, "the cheater's price, locked while the window is open");
  assert.match(await text(row.getByTestId("job-verification")), /optimistic:600s.*challenge window open/);
  await shot("history");
});

test("the job's page shows every signed record with verified signers, and every transaction with its hash and gas", async () => {
  await page.getByTestId("job-row").filter({ hasText: "cowsay" }).first().getByRole("link").click();
  await page.getByRole("heading", { name: /cowsay job/ }).waitFor();
  assert.equal(await text(page.getByTestId("job-id")), jobId);
  for (const kind of ["job-offer", "resource-offer", "deal", "result"]) await page.getByTestId(`record-${kind}`).waitFor();
  const signers = page.getByTestId("signer");
  assert.equal(await signers.count(), 5, "job offer, resource offer, the deal by both parties, the result");
  for (const s of await signers.all()) assert.equal(await s.getAttribute("data-verified"), "true", await text(s));
  assert.equal((await text(page.getByTestId("record-job-offer").getByTestId("record-id"))).trim(), jobId);
  dealId = (await text(page.getByTestId("record-deal").getByTestId("record-id"))).trim();
  assert.equal(await dealState(chain, { dealId: dealId as `0x${string}` }), "committed");
  const events = await page.getByTestId("tx-row").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-event")));
  assert.deepEqual(events.slice(0, 2), ["DealOpened", "ResultCommitted"]);
  for (const hash of await page.getByTestId("tx-hash").allTextContents()) assert.match(hash, /^0x[0-9a-f]{64}$/);
  for (const gas of await page.getByTestId("tx-gas").allTextContents()) assert.ok(Number(gas.replace(/,/g, "")) > 21_000, `gas ${gas}`);
  assert.match(await text(page.getByTestId("window-left")), /\d+ min/);
  await shot("job-page");
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the job page fits a phone's width (${overflow}px too wide)`);
  await shot("job-page-phone");
  await page.setViewportSize({ width: 1280, height: 860 });
});

test("a challenge from the page reaches the mediator, who slashes the cheater, and the page shows it", async () => {
  await page.getByLabel("Reason (optional)").fill("not my message");
  await page.getByRole("button", { name: "Challenge this result" }).click();
  const panel = page.getByTestId("challenge");
  await panel.getByText(/Challenged in transaction 0x[0-9a-f]{64}/).waitFor();
  // The mediator re-runs cowsay, finds the cheat and rules on chain; the page follows by itself.
  await page.locator('[data-testid="challenge"] [data-verdict="slashed"]').waitFor({ timeout: 120_000 });
  assert.equal(await dealState(chain, { dealId: dealId as `0x${string}` }), "slashed");
  await page.locator('[data-testid="tx-row"][data-event="DealSlashed"]').waitFor();
  for (const e of ["DealChallenged", "Ruled"]) assert.equal(await page.locator(`[data-testid="tx-row"][data-event="${e}"]`).count(), 1, e);
  assert.match(await text(page.getByTestId("job-status")), /slashed/);
  assert.match(await text(page.getByTestId("job-cost")), /refunded \+ 5 LILY from the slashed provider/);
  assert.equal(await page.getByRole("button", { name: "Challenge this result" }).count(), 0, "no second challenge is offered");
  await shot("job-challenged");

  await page.getByRole("link", { name: "← History" }).click();
  const row = page.locator(`[data-testid="job-row"][data-job="${jobId}"]`);
  await row.waitFor();
  assert.match(await text(row.getByTestId("job-verification")), /provider slashed/);
});

test("a second challenge, and one after the window closed, are refused by the gateway and cost nothing", async () => {
  const again = await gateway("POST", `/v1/jobs/${jobId}/challenge`, {});
  assert.equal(again.status, 409, JSON.stringify(again.body));
  assert.equal((again.body.error as { param: string }).param, "challenge");

  // A job whose window is 2 seconds: by the time it is challenged, the result stands.
  const posted = await gateway("POST", "/v1/jobs", {
    module: "cowsay@1.0.0",
    inputs: { message: "quick" },
    max_price: "2000000000000000000",
    policy: "optimistic:2s",
  });
  assert.equal(posted.status, 201, JSON.stringify(posted.body));
  const quick = posted.body.id as string;
  // Its page, opened at once, follows it live: nothing on chain yet or its first transactions (a
  // trivial job can open before the page has loaded), then the rest as they happen, and the window
  // closing 2 s after the commit, without a reload.
  await page.goto(`${gatewayUrlOf(net)}/#/jobs/${quick}`);
  await page.getByText("No transaction yet").or(page.locator('[data-testid="tx-row"]')).first().waitFor();
  await page.locator('[data-testid="tx-row"][data-event="ResultCommitted"]').waitFor({ timeout: 120_000 });
  await page.getByText("The challenge window has closed: the result stands.").waitFor({ timeout: 60_000 });
  assert.equal(await page.getByRole("button", { name: "Challenge this result" }).count(), 0);
  // The page counts down from the chain time it last read by its own clock; the gateway judges by
  // the chain's newest block (or the wall clock, whichever is later). On a loaded machine anvil's
  // one-second blocks can lag the page's count, and the chain then rightly still takes the
  // challenge: the late request waits until the gateway also says the window closed.
  for (const until = Date.now() + 30_000; ; await new Promise((r) => setTimeout(r, 200))) {
    const r = await gateway("GET", `/v1/jobs/${quick}/record`);
    if ((r.body.verification as { challengeable: boolean }).challengeable === false) break;
    assert.ok(Date.now() < until, "the gateway still says the window is open 30 s after the page said it closed");
  }
  const late = await gateway("POST", `/v1/jobs/${quick}/challenge`, { reason: "too late" });
  assert.equal(late.status, 409, JSON.stringify(late.body));
  assert.equal((late.body.error as { param: string }).param, "challenge_window");
  // Neither refusal sent a transaction: one challenge on the first deal, none on the second.
  const challenges = async (id: string) =>
    ((await gateway("GET", `/v1/jobs/${id}/record`)).body.transactions as { name: string }[]).filter((t) => t.name === "DealChallenged").length;
  assert.equal(await challenges(jobId), 1);
  assert.equal(await challenges(quick), 0);
});
