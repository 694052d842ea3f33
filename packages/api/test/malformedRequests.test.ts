import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import * as z from "zod";
import { defineRoutes, serve } from "../src/index.ts";
import { rawRequest } from "./rawHttp.ts";

const routes = defineRoutes({
  getThing: {
    method: "GET",
    path: "/v1/things/:id",
    params: z.object({ id: z.string().regex(/^[a-z0-9]+$/, "must be lowercase letters and digits") }),
    query: z.object({ tag: z.string().optional() }),
    response: z.object({ id: z.string(), tag: z.string().optional() }),
  },
  getThingParts: { method: "GET", path: "/v1/things/:id/parts", params: z.object({ id: z.string() }), response: z.object({ id: z.string() }) },
  postThing: { method: "POST", path: "/v1/things", body: z.object({ name: z.string() }), response: z.object({ name: z.string() }) },
  circular: { method: "GET", path: "/v1/circular", response: z.any() },
});

async function startServer(t: TestContext) {
  const internalErrors: unknown[] = [];
  const running = await serve(
    routes,
    {
      getThing: ({ params, query }) => ({ id: params.id, tag: query.tag }),
      getThingParts: ({ params }) => ({ id: params.id }),
      postThing: ({ body }) => body,
      circular: () => {
        const loop: Record<string, unknown> = {};
        loop.self = loop;
        return loop;
      },
    },
    { onError: (e) => internalErrors.push(e) },
  );
  t.after(() => running.close());
  return { url: running.url, internalErrors };
}

const cases: { what: string; method: string; path: string; body?: string; status: number; field: string }[] = [
  { what: "a bad percent-encoding in a path parameter", method: "GET", path: "/v1/things/%E0%A4%A", status: 400, field: "params.id" },
  { what: "a bad percent-encoding in a longer path", method: "GET", path: "/v1/things/%E0%A4%A/parts", status: 400, field: "params.id" },
  { what: "a lone percent sign in a path parameter", method: "GET", path: "/v1/things/50%", status: 400, field: "params.id" },
  { what: "a bad percent-encoding in a query value", method: "GET", path: "/v1/things/abc?tag=%E0%A4%A", status: 400, field: "query.tag" },
  { what: "a bad percent-encoding in a query name", method: "GET", path: "/v1/things/abc?%E0%A4%A=1", status: 400, field: "query" },
  { what: "a path parameter that fails its schema", method: "GET", path: "/v1/things/ABC", status: 400, field: "params.id" },
  { what: "a path that begins with two slashes", method: "GET", path: "//", status: 404, field: "path" },
  { what: "an unknown path", method: "GET", path: "/v1/nothing", status: 404, field: "path" },
  { what: "a method the path does not take", method: "DELETE", path: "/v1/things/abc", status: 405, field: "method" },
  { what: "a body that is not JSON", method: "POST", path: "/v1/things", body: "{", status: 400, field: "body" },
  { what: "a JSON body of the wrong shape", method: "POST", path: "/v1/things", body: '{"name":1}', status: 400, field: "body.name" },
];

for (const c of cases) {
  test(`${c.what} is answered ${c.status} naming ${c.field}, not 500`, async (t) => {
    const { url, internalErrors } = await startServer(t);
    const res = await rawRequest(url, c.method, c.path, { body: c.body });
    assert.equal(res.status, c.status);
    assert.equal(res.body.error.field, c.field);
    assert.notEqual(res.body.error.code, "INTERNAL");
    assert.deepEqual(internalErrors, []);
  });
}

test("a well-formed percent-encoding is decoded before the schema sees it", async (t) => {
  const { url } = await startServer(t);
  const res = await rawRequest(url, "GET", "/v1/things/abc?tag=caf%C3%A9+au+lait");
  assert.deepEqual(res.body, { id: "abc", tag: "café au lait" });
});

test("a method the path does not take is answered 405 with the methods it does", async (t) => {
  const { url } = await startServer(t);
  const res = await rawRequest(url, "PUT", "/v1/things");
  assert.equal(res.status, 405);
  assert.equal(res.headers.allow, "POST");
});

test("a response the server cannot serialise is a 500 INTERNAL, and the server goes on serving", async (t) => {
  const { url, internalErrors } = await startServer(t);
  const res = await rawRequest(url, "GET", "/v1/circular");
  assert.equal(res.status, 500);
  assert.equal(res.body.error.code, "INTERNAL");
  assert.equal(internalErrors.length, 1);
  assert.equal((await rawRequest(url, "GET", "/v1/things/abc")).status, 200);
});
