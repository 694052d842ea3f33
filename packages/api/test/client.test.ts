import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import * as z from "zod";
import { LilyError, isLilyError } from "@lily/protocol";
import { createClient, defineRoutes, serve, type ClientOptions } from "../src/index.ts";
import { urlOf } from "./rawHttp.ts";

const MiB = 1024 * 1024;

const routes = defineRoutes({
  getThing: {
    method: "GET",
    path: "/v1/things/:id",
    params: z.object({ id: z.string().regex(/^[a-z]+$/, "must be lowercase letters") }),
    response: z.object({ id: z.string() }),
  },
  claim: { method: "POST", path: "/v1/claims", body: z.object({ name: z.string() }), response: z.object({ name: z.string() }) },
  count: { method: "GET", path: "/v1/count", response: z.object({ count: z.number() }) },
  block: { method: "GET", path: "/v1/block", response: "bytes" },
});

async function startLilyServer(t: TestContext) {
  const running = await serve(routes, {
    getThing: ({ params }) => ({ id: params.id }),
    claim: ({ body }) => {
      throw new LilyError({ code: "CONFLICT", field: "name", message: `name: ${body.name} is taken`, details: { name: body.name } });
    },
    count: () => ({ count: "many" }) as never,
    block: () => new Uint8Array([1, 2, 3]),
  });
  t.after(() => running.close());
  return createClient(running.url, routes, { peer: "test server" });
}

/** A server that is not a Lily server: it answers every request with `respond`. */
async function startForeignServer(t: TestContext, respond: http.RequestListener, opts: ClientOptions = {}) {
  const server = http.createServer(respond);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return createClient(urlOf(server), routes, { peer: "foreign server", ...opts });
}

test("the client rebuilds the LilyError the handler threw: code, field and details", async (t) => {
  const api = await startLilyServer(t);
  await assert.rejects(api.claim({ body: { name: "lily" } }), (e) => {
    assert.ok(isLilyError(e, "CONFLICT"));
    assert.equal(e.field, "name");
    assert.deepEqual(e.details, { name: "lily" });
    return true;
  });
});

test("a request the server's schema refuses comes back as INVALID_INPUT naming the field", async (t) => {
  const api = await startLilyServer(t);
  assert.deepEqual(await api.getThing({ params: { id: "abc" } }), { id: "abc" });
  await assert.rejects(api.getThing({ params: { id: "ABC" } }), (e) => isLilyError(e, "INVALID_INPUT") && e.field === "params.id");
});

test("a response is validated against the route's schema before the caller sees it", async (t) => {
  const api = await startLilyServer(t);
  await assert.rejects(api.count({}), (e) => isLilyError(e, "INVALID_INPUT") && e.field === "test server response.count");
});

test("bytes responses come back as bytes", async (t) => {
  const api = await startLilyServer(t);
  assert.deepEqual(await api.block({}), new Uint8Array([1, 2, 3]));
});

test("an error from something that is not a Lily server is INTERNAL naming the peer", async (t) => {
  const api = await startForeignServer(t, (_req, res) => res.writeHead(502, { "content-type": "text/html" }).end("<h1>Bad Gateway</h1>"));
  await assert.rejects(api.count({}), (e) => isLilyError(e, "INTERNAL") && /foreign server: HTTP 502/.test(e.message));
});

test("a refused connection is UNREACHABLE naming the peer", async () => {
  const api = createClient("http://127.0.0.1:1", routes, { peer: "nobody" });
  await assert.rejects(api.count({}), (e) => isLilyError(e, "UNREACHABLE") && /nobody/.test(e.message));
});

test("a peer that stalls in the middle of its response is UNREACHABLE once the timeout passes", { timeout: 10_000 }, async (t) => {
  const api = await startForeignServer(
    t,
    (_req, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-length": 100 });
      res.write('{"count":');
    },
    { timeoutMs: 300 },
  );
  await assert.rejects(api.count({}), (e) => isLilyError(e, "UNREACHABLE") && /foreign server/.test(e.message));
});

test("a response that announces more than the client accepts is refused without waiting for it", { timeout: 10_000 }, async (t) => {
  const api = await startForeignServer(
    t,
    (_req, res) => {
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": 1024 * MiB });
      res.flushHeaders();
    },
    { maxResponseBytes: { bytes: MiB }, timeoutMs: 5_000 },
  );
  await assert.rejects(api.block({}), (e) => isLilyError(e, "INTERNAL") && /larger than 1048576 bytes/.test(e.message));
});

test("a streamed response is read only until it passes the client's limit", { timeout: 30_000 }, async (t) => {
  let sent = 0;
  const total = 64 * MiB;
  const api = await startForeignServer(
    t,
    (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (sent < total && !res.destroyed) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once("drain", pump);
        }
        res.end();
      };
      pump();
    },
    { maxResponseBytes: { json: MiB }, timeoutMs: 20_000 },
  );
  await assert.rejects(api.count({}), (e) => isLilyError(e, "INTERNAL") && /larger than 1048576 bytes/.test(e.message));
  assert.ok(sent < total, `the client let the server send all ${sent} bytes`);
});
