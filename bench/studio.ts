// `npm run bench:studio`: how fast the studio's first page is on a devnet, against a baseline
// measured in this same run. Debian's chromium (playwright-core) opens the marketplace at the
// devnet's gateway in a fresh browser context (nothing cached), N times, and times it from the
// navigation to "interactive": the first card is on screen (the catalogue came back from
// /v1/catalog) and the search box takes a keystroke that filters the list. The baseline is the
// same walk on the smallest page of that shape (one input and one card, served from this process),
// so what is left is the studio's own cost: its bundle, React's start and the catalogue's request.
// Then the same with the browser's cache warm, and the bytes the first page fetched.
// Progress goes to stderr, the table to stdout (`--json`: the numbers as JSON instead).
import { readdirSync, readFileSync, statSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { chromium, type Browser, type BrowserContext } from "playwright-core";
import { startDevnet, stopAll } from "./devnet.ts";
import { int, ms, progress, quantile, ratio, table } from "./stats.ts";

const USAGE = `usage: npm run bench:studio [-- --loads N] [--json]
  --loads N   cold and warm page loads measured each way (default 10)
  --json      print the numbers as JSON instead of the table`;

const { values: o } = parseArgs({
  options: { loads: { type: "string", default: "10" }, json: { type: "boolean", default: false }, help: { type: "boolean", default: false } },
});
if (o.help) {
  console.log(USAGE);
  process.exit(0);
}
const LOADS = Number(o.loads);
if (!Number.isInteger(LOADS) || LOADS < 1) {
  process.stderr.write(`error: --loads: expected an integer >= 1, got ${o.loads}\n${USAGE}\n`);
  process.exit(2);
}
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const DIST = process.env.LILY_STUDIO_DIR ?? fileURLToPath(new URL("../packages/studio/dist/", import.meta.url));

/** The baseline: a page with the studio's shape (a search box filtering cards) and nothing else. */
const BASELINE_HTML = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>baseline</title></head><body><main>
<label>Search modules and models <input aria-label="Search modules and models" oninput="document.getElementById('c').hidden=!'cowsay'.includes(this.value)"></label>
<article id="c" data-testid="card-cowsay">cowsay</article></main></body></html>`;

interface Load {
  /** navigation → first card visible and the search box filtering. */
  interactiveMs: number;
  /** Bytes the page fetched (resource timing's transfer sizes, the document included). */
  bytes: number;
}

/** One page load in `context`: time to interactive as a person would see it. */
async function load(context: BrowserContext, url: string): Promise<Load> {
  const page = await context.newPage();
  try {
    const t0 = performance.now();
    await page.goto(url, { waitUntil: "commit" });
    await page.getByTestId("card-cowsay").waitFor();
    const search = page.getByLabel("Search modules and models");
    await search.fill("zzz-no-such-module");
    await page.getByTestId("card-cowsay").waitFor({ state: "hidden" });
    const interactiveMs = performance.now() - t0;
    const bytes = await page.evaluate(() =>
      [...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")].reduce(
        (sum, e) => sum + (e as PerformanceResourceTiming).transferSize,
        0,
      ),
    );
    return { interactiveMs, bytes };
  } finally {
    await page.close();
  }
}

/** `loads` cold loads (a fresh context each) and as many warm ones (one context, cache kept). */
async function measure(browser: Browser, url: string, loads: number): Promise<{ cold: Load[]; warm: Load[] }> {
  const cold: Load[] = [];
  for (let i = 0; i < loads; i++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    cold.push(await load(context, url));
    await context.close();
  }
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  await load(context, url); // fills the cache
  const warm: Load[] = [];
  for (let i = 0; i < loads; i++) warm.push(await load(context, url));
  await context.close();
  return { cold, warm };
}

/** The built studio's files by kind, raw and gzipped: what the first page can cost at most. */
function bundle(): { js: number; jsGzip: number; css: number; cssGzip: number; chunks: number } {
  const assets = join(DIST, "assets");
  const out = { js: 0, jsGzip: 0, css: 0, cssGzip: 0, chunks: 0 };
  for (const f of readdirSync(assets)) {
    const path = join(assets, f);
    if (!statSync(path).isFile()) continue;
    const bytes = readFileSync(path);
    if (f.endsWith(".js")) {
      out.js += bytes.length;
      out.jsGzip += gzipSync(bytes).length;
      out.chunks++;
    } else if (f.endsWith(".css")) {
      out.css += bytes.length;
      out.cssGzip += gzipSync(bytes).length;
    }
  }
  return out;
}

async function main() {
  const baseline = http.createServer((_req, res) => res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(BASELINE_HTML));
  await new Promise<void>((resolve) => baseline.listen(0, "127.0.0.1", resolve));
  const baselineUrl = `http://127.0.0.1:${(baseline.address() as { port: number }).port}/`;
  progress("starting a devnet");
  const net = await startDevnet();
  const gatewayUrl = (net.network as unknown as { gatewayUrl: string }).gatewayUrl;
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
  try {
    progress(`baseline page: ${LOADS} cold and ${LOADS} warm loads`);
    const base = await measure(browser, baselineUrl, LOADS);
    progress(`studio at ${gatewayUrl}/: ${LOADS} cold and ${LOADS} warm loads`);
    const studio = await measure(browser, `${gatewayUrl}/`, LOADS);
    const p = (ls: Load[], q: number) =>
      quantile(
        ls.map((l) => l.interactiveMs),
        q,
      );
    const built = bundle();
    const results = {
      loads: LOADS,
      cold: { studioP50: p(studio.cold, 0.5), studioP90: p(studio.cold, 0.9), baselineP50: p(base.cold, 0.5), baselineP90: p(base.cold, 0.9) },
      warm: { studioP50: p(studio.warm, 0.5), studioP90: p(studio.warm, 0.9), baselineP50: p(base.warm, 0.5), baselineP90: p(base.warm, 0.9) },
      firstPageBytes: { studio: studio.cold[0]!.bytes, baseline: base.cold[0]!.bytes },
      bundle: built,
    };
    if (o.json) return void console.log(JSON.stringify(results, null, 2));
    console.log(
      table(
        ["first page (marketplace)", "studio", "baseline", "studio / baseline"],
        [
          ["interactive, cold cache, p50", ms(results.cold.studioP50), ms(results.cold.baselineP50), ratio(results.cold.studioP50, results.cold.baselineP50)],
          ["interactive, cold cache, p90", ms(results.cold.studioP90), ms(results.cold.baselineP90), ratio(results.cold.studioP90, results.cold.baselineP90)],
          ["interactive, warm cache, p50", ms(results.warm.studioP50), ms(results.warm.baselineP50), ratio(results.warm.studioP50, results.warm.baselineP50)],
          ["interactive, warm cache, p90", ms(results.warm.studioP90), ms(results.warm.baselineP90), ratio(results.warm.studioP90, results.warm.baselineP90)],
          [
            "bytes fetched, cold",
            `${int(results.firstPageBytes.studio)} B`,
            `${int(results.firstPageBytes.baseline)} B`,
            ratio(results.firstPageBytes.studio, results.firstPageBytes.baseline),
          ],
        ],
      ),
    );
    console.log(
      table(
        ["built studio (all pages)", "raw", "gzip"],
        [
          [`JavaScript (${built.chunks} chunks)`, `${int(built.js)} B`, `${int(built.jsGzip)} B`],
          ["CSS", `${int(built.css)} B`, `${int(built.cssGzip)} B`],
        ],
      ),
    );
    console.log(`(${LOADS} loads each; interactive = navigation to the first card shown and the search box filtering it)`);
  } finally {
    await browser.close();
    baseline.close();
    await net.stop();
  }
}

main().catch(async (e) => {
  process.stderr.write(`bench:studio failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  await stopAll();
  process.exit(1);
});
