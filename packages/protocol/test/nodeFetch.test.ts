// nodeFetch against a real HTTP server: what Lily's API client and viem's HTTP transport read of
// an answer (status, headers, a body whole or streamed), failures as fetch reports them (a refused
// connection, an abort), and that it never loads undici, which is why it exists.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { nodeFetch } from "../src/nodeFetch.ts";

let server: http.Server;
let base: string;
const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 7) & 0xff);

before(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.url === "/echo") {
        res.setHeader("content-type", "application/json");
        res.setHeader("x-seen", String(req.headers["x-lily"]));
        res.end(JSON.stringify({ method: req.method, length: req.headers["content-length"], body: Buffer.concat(chunks).toString("utf8") }));
      } else if (req.url === "/bytes") {
        res.setHeader("content-type", "application/octet-stream");
        res.end(Buffer.concat(chunks));
      } else if (req.url === "/big") {
        // Written in pieces without a length: the body arrives chunked, in several reads.
        for (let at = 0; at < big.length; at += 100_000) res.write(big.subarray(at, at + 100_000));
        res.end();
      } else if (req.url === "/never") {
        // Never answers: only the caller's abort ends the request.
      } else if (req.url === "/stall") {
        // Headers and the start of a body, then nothing: only the caller's abort ends the read.
        res.setHeader("content-type", "application/json");
        res.write('{"result":');
      } else {
        res.statusCode = 404;
        res.end("no such thing");
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

test("a JSON request and answer: method, headers and body go out; status, headers and body come back", async () => {
  const res = await nodeFetch(`${base}/echo`, { method: "POST", headers: { "Content-Type": "application/json", "X-Lily": "yes" }, body: '{"a":"é"}' });
  assert.equal(res.ok, true);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("Content-Type"), "application/json");
  assert.equal(res.headers.get("x-seen"), "yes");
  assert.equal(res.headers.get("x-absent"), null);
  assert.deepEqual(await res.json(), { method: "POST", length: "10", body: '{"a":"é"}' });
});

test("bytes go out as sent, and a large chunked answer streams through getReader in order", async () => {
  const sent = new Uint8Array([0, 1, 2, 255, 254]);
  const echoed = await nodeFetch(`${base}/bytes`, { method: "PUT", body: sent });
  assert.deepEqual(new Uint8Array(await echoed.arrayBuffer()), sent);

  const res = await nodeFetch(`${base}/big`);
  const reader = res.body!.getReader();
  const parts: Uint8Array[] = [];
  for (let r = await reader.read(); !r.done; r = await reader.read()) parts.push(r.value);
  assert.ok(parts.length > 1, "read in more than one piece");
  assert.deepEqual(Buffer.concat(parts), Buffer.from(big));
});

test("an error status is an answer (ok false), not a failure", async () => {
  const res = await nodeFetch(`${base}/missing`);
  assert.equal(res.ok, false);
  assert.equal(res.status, 404);
  assert.equal(await res.text(), "no such thing");
});

test("a refused connection rejects as fetch does: a TypeError whose cause names it", async () => {
  const closed = http.createServer();
  await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((r) => closed.close(r));
  await assert.rejects(
    nodeFetch(`http://127.0.0.1:${port}/`),
    (e: unknown) => e instanceof TypeError && (e.cause as { code?: string }).code === "ECONNREFUSED",
  );
});

test("an abort ends a request the server never answers, with the signal's reason", async () => {
  const t0 = Date.now();
  await assert.rejects(nodeFetch(`${base}/never`, { signal: AbortSignal.timeout(100) }), (e: unknown) => (e as Error).name === "TimeoutError");
  assert.ok(Date.now() - t0 < 5000);
  const gone = new AbortController();
  gone.abort(new Error("already gone"));
  await assert.rejects(nodeFetch(`${base}/echo`, { signal: gone.signal }), /already gone/);
});

test("an abort after the answer's headers ends the body's read, with the signal's reason as fetch gives it", async () => {
  for (const f of [nodeFetch, fetch]) {
    const res = await f(`${base}/stall`, { signal: AbortSignal.timeout(300) });
    assert.equal(res.status, 200);
    await assert.rejects(res.text(), (e: unknown) => (e as Error).name === "TimeoutError", f.name);
  }
});

test("an abort after the whole answer arrived but before it was read rejects the read: never a short body", async () => {
  for (const f of [nodeFetch, fetch]) {
    const abort = new AbortController();
    const res = await f(`${base}/big`, { signal: abort.signal });
    await new Promise((r) => setTimeout(r, 200)); // the whole answer is in by now
    abort.abort(new Error("gave up"));
    await assert.rejects(res.arrayBuffer(), /gave up/, f.name);
  }
  // Read in part, then aborted: the next read rejects too.
  const abort = new AbortController();
  const reader = (await nodeFetch(`${base}/big`, { signal: abort.signal })).body!.getReader();
  assert.equal((await reader.read()).done, false);
  abort.abort(new Error("gave up"));
  await assert.rejects(reader.read(), /gave up/);
});

test("a connection the server drops before answering is a TypeError, as fetch gives it", async () => {
  const rude = http.createServer((req) => req.socket.destroy());
  await new Promise<void>((r) => rude.listen(0, "127.0.0.1", r));
  try {
    for (const f of [nodeFetch, fetch]) {
      await assert.rejects(f(`http://127.0.0.1:${(rude.address() as AddressInfo).port}/`, { method: "POST", body: "x" }), TypeError, f.name);
    }
  } finally {
    rude.close();
  }
});

test("bad input is refused before anything is sent", async () => {
  await assert.rejects(nodeFetch("ftp://127.0.0.1/x"), /unsupported protocol ftp:/);
  await assert.rejects(nodeFetch(`${base}/echo`, { method: "POST", body: new Blob(["x"]) }), /a body must be a string or bytes/);
});

test("a request through nodeFetch loads no undici; one through the built-in fetch does (the control)", async () => {
  // Asynchronously: the server answering the child runs in this process.
  const probe = async (call: string) =>
    (
      await promisify(execFile)(
        process.execPath,
        [
          "--input-type=module",
          "-e",
          `import { nodeFetch } from ${JSON.stringify(new URL("../src/nodeFetch.ts", import.meta.url).href)};
         const res = await ${call}(${JSON.stringify(`${base}/echo`)}, { method: "POST", body: "x" });
         await res.json();
         console.log(process.moduleLoadList.some((m) => m.includes("undici")));`,
        ],
        { encoding: "utf8" },
      )
    ).stdout.trim();
  assert.equal(await probe("nodeFetch"), "false");
  assert.equal(await probe("fetch"), "true");
});
