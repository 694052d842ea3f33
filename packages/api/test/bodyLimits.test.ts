import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import * as z from "zod";
import { SignedJobOffer } from "@lily/protocol";
import { defineRoutes, serve, type ServeOptions } from "../src/index.ts";
import { acceptedSockets, rawRequest, streamUpload } from "./rawHttp.ts";

const KiB = 1024;
const MiB = 1024 * KiB;

/** A server whose routes count how often their body schema and their handler ran. */
async function startServer(t: TestContext, opts: ServeOptions = {}) {
  const ran = { schema: 0, handler: 0 };
  const ranWith = <T>(out: T): T => {
    ran.handler++;
    return out;
  };
  const counted = <T extends z.ZodType>(schema: T) =>
    z.preprocess((v) => {
      ran.schema++;
      return v;
    }, schema);
  const routes = defineRoutes({
    echo: { method: "POST", path: "/v1/echo", body: counted(z.object({ text: z.string() })), response: z.object({ text: z.string() }) },
    tiny: { method: "POST", path: "/v1/tiny", maxBodyBytes: KiB, body: counted(z.object({ text: z.string() })), response: z.object({ text: z.string() }) },
    upload: { method: "PUT", path: "/v1/blocks", body: "bytes", response: z.object({ size: z.number() }) },
    health: { method: "GET", path: "/v1/health", response: z.object({ ok: z.boolean() }) },
    postJobOffer: { method: "POST", path: "/v1/job-offers", body: counted(SignedJobOffer), response: z.object({ ok: z.boolean() }) },
  });
  const running = await serve(
    routes,
    {
      echo: ({ body }) => ranWith(body),
      tiny: ({ body }) => ranWith(body),
      upload: ({ body }) => ranWith({ size: body.length }),
      health: () => ranWith({ ok: true }),
      postJobOffer: () => ranWith({ ok: true }),
    },
    opts,
  );
  t.after(() => running.close());
  const sockets = acceptedSockets(running.server);
  /** Bytes the server has read off its sockets so far, headers included. */
  const bytesRead = () => sockets.reduce((n, s) => n + s.bytesRead, 0);
  return { url: running.url, ran, bytesRead };
}

const json = (text: string) => JSON.stringify({ text });

test("a body within the route's limit reaches the handler and keeps the connection open", async (t) => {
  const { url, ran } = await startServer(t);
  const res = await rawRequest(url, "POST", "/v1/echo", { body: json("hello"), headers: { "content-type": "application/json", connection: "keep-alive" } });
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, { text: "hello" });
  assert.notEqual(res.headers.connection, "close");
  assert.deepEqual(ran, { schema: 1, handler: 1 });
});

test("a body whose Content-Length is over the route's limit is refused with 413 before any of it is sent", { timeout: 10_000 }, async (t) => {
  const { url, ran } = await startServer(t);
  // The headers promise 10 MiB and not one byte follows: only a server that refuses on the header answers.
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    const req = http.request(url, { method: "POST", path: "/v1/echo", agent: false, headers: { "content-length": 10 * MiB } }, resolve);
    req.on("error", reject);
    req.flushHeaders();
  });
  res.resume();
  assert.equal(res.statusCode, 413);
  assert.equal(res.headers.connection, "close");
  assert.deepEqual(ran, { schema: 0, handler: 0 });
});

test("a streamed body is read only until it passes the limit, then refused with 413 and the connection closed", { timeout: 30_000 }, async (t) => {
  const { url, ran, bytesRead } = await startServer(t);
  const res = await streamUpload(url, "POST", "/v1/echo", new Uint8Array(64 * KiB).fill(0x20), 43 * MiB);
  assert.equal(res.status, 413);
  assert.equal(res.body.error.code, "INVALID_INPUT");
  assert.equal(res.body.error.field, "body");
  assert.match(res.body.error.message, /262144 bytes/);
  assert.equal(res.sentAll, false, "the server answered before the client had sent everything");
  assert.ok(bytesRead() < 1 * MiB, `the server read ${bytesRead()} bytes of a 43 MiB body`);
  assert.deepEqual(ran, { schema: 0, handler: 0 });
});

test("a client that expects 100-continue is refused with 413 and never told to send its body", { timeout: 10_000 }, async (t) => {
  const { url, ran } = await startServer(t);
  let toldToContinue = false;
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    const req = http.request(url, { method: "POST", path: "/v1/echo", agent: false, headers: { "content-length": 10 * MiB, expect: "100-continue" } }, resolve);
    req.on("continue", () => (toldToContinue = true));
    req.on("error", reject);
    req.flushHeaders();
  });
  res.resume();
  assert.equal(res.statusCode, 413);
  assert.equal(toldToContinue, false);
  assert.deepEqual(ran, { schema: 0, handler: 0 });
});

test("a route's own maxBodyBytes replaces the default", async (t) => {
  const { url, ran } = await startServer(t);
  const under = await rawRequest(url, "POST", "/v1/tiny", { body: json("x".repeat(900)) });
  assert.equal(under.status, 200);
  const over = await rawRequest(url, "POST", "/v1/tiny", { body: json("x".repeat(2 * KiB)) });
  assert.equal(over.status, 413);
  assert.equal(over.body.error.field, "body");
  assert.match(over.body.error.message, /1024 bytes/);
  assert.deepEqual(ran, { schema: 1, handler: 1 });
});

test("bytes routes take the larger limit from ServeOptions, JSON routes the small one", async (t) => {
  const { url } = await startServer(t, { bodyLimits: { bytes: 2 * MiB } });
  const block = new Uint8Array(1 * MiB);
  const stored = await rawRequest(url, "PUT", "/v1/blocks", { body: block, headers: { "content-type": "application/octet-stream" } });
  assert.deepEqual([stored.status, stored.body], [200, { size: MiB }]);
  const tooBig = await rawRequest(url, "PUT", "/v1/blocks", { body: new Uint8Array(3 * MiB) });
  assert.equal(tooBig.status, 413);
  assert.match(tooBig.body.error.message, /2097152 bytes/);
  const jsonOfTheSameSize = await rawRequest(url, "POST", "/v1/echo", { body: json("x".repeat(MiB)) });
  assert.equal(jsonOfTheSameSize.status, 413);
});

test("a body sent to a route that takes none is refused with 413", async (t) => {
  const { url, ran } = await startServer(t);
  const res = await rawRequest(url, "GET", "/v1/health", { body: json("unexpected") });
  assert.equal(res.status, 413);
  assert.equal(res.body.error.field, "body");
  assert.equal(ran.handler, 0);
});

test("a 43 MB job offer with a million mediators is refused with 413 and never parsed", { timeout: 60_000 }, async (t) => {
  const { url, ran, bytesRead } = await startServer(t);
  const mediator = `0x${"ab".repeat(20)}`;
  const offer = { jobCreator: mediator, mediators: new Array(1_000_000).fill(mediator) };
  const body = Buffer.from(JSON.stringify({ offer, signature: `0x${"11".repeat(65)}` }));
  assert.ok(body.length > 43_000_000);
  const before = process.memoryUsage();
  // node:http writes the buffer as it is: the client adds no copy of its own to the measurement.
  const res = await rawRequest(url, "POST", "/v1/job-offers", { body, headers: { "content-type": "application/json" } });
  assert.equal(res.status, 413);
  assert.deepEqual([res.body.error.code, res.body.error.field], ["INVALID_INPUT", "body"]);
  assert.deepEqual(ran, { schema: 0, handler: 0 }, "neither the schema nor the handler saw the offer");
  assert.ok(bytesRead() < 1 * MiB, `the server read ${bytesRead()} bytes of the offer`);
  const after = process.memoryUsage();
  const grown = after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers);
  assert.ok(grown < 20 * MiB, `memory grew by ${grown} bytes`);
});
