// The studio's side of a real gateway: its built files at `/` (content types, cached hashed
// assets, index.html for the app's own routes, nothing outside its folder however the path is
// spelled), the marketplace's catalogue of the network's modules and a model with live prices,
// and the development account only on a gateway started with one.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { parseEther } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import type { RunningGateway } from "../src/index.ts";
import { acceptsGzip } from "../src/http/studioRoutes.ts";
import { OUTPUT_PER_1K, startGatewayNetwork, type GatewayNetwork, type PublishedModel } from "./network.ts";
import { tempDir } from "../../../test/support/tempDir.ts";

const devKey = `0x${"d3".repeat(32)}` as const;
const INDEX = "<!doctype html><title>studio</title><div id=root></div>";
const SCRIPT = "console.log('studio');";
const SECRET = "the gateway's secret, outside the studio folder";

let net: GatewayNetwork;
let gateway: RunningGateway;
let plain: RunningGateway;
let model: PublishedModel;
let dir: string;

before(async () => {
  // A built studio: index.html and a hashed asset, with a secret beside the folder and a link out of it.
  dir = tempDir("lily-studio-");
  const studioDir = join(dir, "dist");
  mkdirSync(join(studioDir, "assets"), { recursive: true });
  writeFileSync(join(studioDir, "index.html"), INDEX);
  writeFileSync(join(studioDir, "assets", "index-Bz3EzwPt.js"), SCRIPT);
  writeFileSync(join(studioDir, "logo.svg"), "<svg xmlns='http://www.w3.org/2000/svg'/>");
  writeFileSync(join(dir, "secret.txt"), SECRET);
  symlinkSync(join(dir, "secret.txt"), join(studioDir, "linked.txt"));

  net = await startGatewayNetwork("studio", { solver: { sweepIntervalMs: 200 } });
  model = await net.publishModel("studio-tiny");
  const provider = await net.party("studio provider", { deposit: parseEther("10") });
  await net.startProvider(provider, model);
  const payer = await net.party("studio gateway");
  gateway = await net.startGateway(payer.account!, { opts: { studioDir, devAccountKey: devKey } });
  plain = await net.startGateway(payer.account!, { opts: { studioDir: join(dir, "not-built") } });
});
after(async () => {
  await net?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** GET `path` exactly as written (fetch would normalise `..` away before sending it). */
function rawGet(url: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ hostname, port, path, method: "GET", headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

test("the studio's files are served with their content types, hashed assets cached for a year", async () => {
  const index = await rawGet(gateway.url, "/");
  assert.equal(index.status, 200);
  assert.equal(index.body, INDEX);
  assert.match(index.headers["content-type"]!, /^text\/html/);
  assert.equal(index.headers["cache-control"], "no-cache");

  const script = await rawGet(gateway.url, "/assets/index-Bz3EzwPt.js");
  assert.equal(script.status, 200);
  assert.equal(script.body, SCRIPT);
  assert.match(script.headers["content-type"]!, /^text\/javascript/);
  assert.equal(script.headers["cache-control"], "public, max-age=31536000, immutable");
  assert.equal((await rawGet(gateway.url, "/assets/index-Bz3EzwPt.js", { "if-none-match": script.headers.etag! })).status, 304);

  const logo = await rawGet(gateway.url, "/logo.svg");
  assert.equal(logo.headers["content-type"], "image/svg+xml");
  assert.equal(logo.headers["cache-control"], "no-cache");
});

/** GET `path` as bytes, without fetch's transparent decompression. */
function rawBytes(url: string, path: string, headers: Record<string, string>): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    http
      .get({ hostname, port, path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      })
      .on("error", reject);
  });
}

test("a browser that accepts gzip gets text files gzipped, under their own ETag; others get them as they are", async () => {
  const gz = await rawBytes(gateway.url, "/assets/index-Bz3EzwPt.js", { "accept-encoding": "gzip, deflate, br" });
  assert.equal(gz.headers["content-encoding"], "gzip");
  assert.equal(gz.headers.vary, "accept-encoding");
  assert.equal(gunzipSync(gz.body).toString(), SCRIPT);
  assert.equal(Number(gz.headers["content-length"]), gz.body.length);
  const plainJs = await rawBytes(gateway.url, "/assets/index-Bz3EzwPt.js", { "accept-encoding": "gzip;q=0, identity" });
  assert.equal(plainJs.headers["content-encoding"], undefined);
  assert.equal(plainJs.body.toString(), SCRIPT);
  assert.notEqual(plainJs.headers.etag, gz.headers.etag, "the two bodies are different representations");
  // The app's routes get index.html gzipped too.
  assert.equal(gunzipSync((await rawBytes(gateway.url, "/chat", { "accept-encoding": "gzip" })).body).toString(), INDEX);
  assert.equal(acceptsGzip("*"), true);
  assert.equal(acceptsGzip("br, GZIP;q=0.5"), true);
  assert.equal(acceptsGzip("gzip;q=0"), false);
  assert.equal(acceptsGzip(undefined), false);
});

test("the app's own routes get index.html; a missing asset and an unknown API path are 404s", async () => {
  for (const path of ["/models/cowsay", "/chat?model=tiny", "/jobs/0xabc/"]) {
    const res = await rawGet(gateway.url, path);
    assert.equal(res.status, 200, path);
    assert.equal(res.body, INDEX, path);
  }
  assert.equal((await rawGet(gateway.url, "/assets/gone-AAAAAAAA.js")).status, 404);
  const api = await rawGet(gateway.url, "/v1/nothing-here");
  assert.equal(api.status, 404);
  assert.match(api.headers["content-type"]!, /json/);
  // A POST nobody routes is still the API's 404, not the studio's page.
  const post = await fetch(`${gateway.url}/somewhere`, { method: "POST" });
  assert.equal(post.status, 404);
});

test("no path reaches a file outside the studio's folder", async () => {
  for (const path of [
    "/../secret.txt",
    "/..%2fsecret.txt",
    "/assets/..%2f..%2fsecret.txt",
    "/%2e%2e/secret.txt",
    "/..%5csecret.txt",
    "/index.html%00.js",
    "/linked.txt",
    "//etc/passwd",
    "/%2fetc%2fpasswd",
    "/%E0%A4%A",
  ]) {
    const res = await rawGet(gateway.url, path);
    assert.ok(!res.body.includes(SECRET), `${path} leaked the secret`);
    assert.ok(!res.body.includes("root:"), `${path} leaked /etc/passwd`);
    assert.ok([200, 400, 404].includes(res.status), `${path}: ${res.status}`);
    if (res.status === 200) assert.equal(res.body, INDEX, path);
  }
  assert.equal((await rawGet(gateway.url, "/..%2fsecret.txt")).status, 400);
});

test("a gateway with no built studio says how to build it", async () => {
  const res = await rawGet(plain.url, "/");
  assert.equal(res.status, 200);
  assert.match(res.body, /npm run build:studio/);
});

interface Entry {
  name: string;
  version: string;
  kind: string;
  cid: string;
  creator: string;
  royaltyBps: number;
  license: string;
  executor?: string;
  inputs?: Record<string, { type: string }>;
  required?: string[];
  contextLength?: number;
  prices: { providers: number; min?: string; max?: string };
}

test("the catalogue lists the network's modules and its model with live prices", async () => {
  const res = await fetch(`${gateway.url}/v1/catalog`);
  assert.equal(res.status, 200);
  const { entries } = (await res.json()) as { entries: Entry[] };

  const cowsay = entries.find((e) => e.name === "cowsay");
  assert.ok(cowsay, JSON.stringify(entries.map((e) => e.name)));
  assert.equal(cowsay.kind, "module");
  assert.equal(cowsay.version, "1.0.0");
  assert.equal(cowsay.cid, net.modules.cowsay);
  assert.equal(cowsay.executor, "wasm");
  assert.equal(cowsay.inputs?.message?.type, "string");
  // The one provider offers every built module at 1 LILY a job.
  assert.deepEqual(cowsay.prices, { providers: 1, min: parseEther("1").toString(), max: parseEther("1").toString() });
  for (const name of Object.keys(net.modules))
    assert.ok(
      entries.some((e) => e.name === name && e.kind === "module"),
      name,
    );

  const tiny = entries.find((e) => e.name === model.name);
  assert.ok(tiny);
  assert.equal(tiny.kind, "model");
  assert.equal(tiny.cid, model.cid);
  assert.equal(tiny.contextLength, 512);
  assert.equal(tiny.license, "CC0-1.0");
  assert.equal(tiny.creator, model.creator.account!.address);
  assert.equal(tiny.executor, undefined);
  assert.deepEqual(tiny.prices, { providers: 1, min: OUTPUT_PER_1K.toString(), max: OUTPUT_PER_1K.toString() });
});

test("the development account is offered only by a gateway started with one", async () => {
  const res = await fetch(`${gateway.url}/v1/dev/account`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { address: privateKeyToAccount(devKey).address, privateKey: devKey });
  assert.equal((await fetch(`${plain.url}/v1/dev/account`)).status, 404);
});
