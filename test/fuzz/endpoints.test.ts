// Every HTTP endpoint of a real devnet (store, solver, both providers' lease APIs and metrics
// servers, the mediator, the gateway) and the solver's WebSocket take at least 10,000 hostile
// messages — malformed JSON, bodies of the wrong shape, bad path parameters, oversized bodies,
// mis-signed records and replays of real ones — and answer every one with a clear 4xx. Afterwards
// no process has died, every role still answers, and nothing changed: the solver's books, the
// store's blocks and the chain are as they were. Generated with fast-check from a fixed seed, so a
// failure names a message that can be sent again.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import fc from "fast-check";
import WebSocket from "ws";
import {
  DEFAULT_BODY_LIMITS,
  EVENTS_PATH,
  INFER_PATH,
  leaseRoutes,
  mediatorRoutes,
  modelOfferRoutes,
  type RouteDef,
  solverRoutes,
  storeRoutes,
} from "@lily/api";
import { defaultStoreOptions } from "@lily/store";
import { lily, startDevnet, type Devnet } from "../e2e/lilyProcess.ts";

/** Messages sent in all; the issue asks for at least 10,000. */
const TOTAL = Number(process.env.LILY_FUZZ_MESSAGES ?? 10_500);
const SEED = Number(process.env.LILY_FUZZ_SEED ?? 20261126);
const PARALLEL = 8;

interface Target {
  role: string;
  base: string;
  method: string;
  path: string;
  /** The route takes a JSON body (false: none, or raw bytes). */
  json: boolean;
  /** An API key the route needs to get past authentication, so its body is what gets fuzzed. */
  auth?: string;
  /** The largest body the route reads, when known; the oversized test sends one byte more. */
  limit?: number;
  /** Every body is valid here (the store's raw blocks: any bytes are a block under their own CID). */
  anyBody?: boolean;
}

interface Reply {
  status: number;
  body: string;
}

let net: Devnet;
let targets: Target[] = [];
let apiKey: string;
let before_: Snapshot;

/** One request exactly as given (no normalising of the path, any body, any headers). */
function send(base: string, method: string, path: string, headers: Record<string, string>, body?: Buffer | string): Promise<Reply> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ hostname, port, path, method, headers, timeout: 30_000 }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        if (text.length < 2000) text += c;
      });
      res.on("end", () => resolve({ status: res.statusCode!, body: text }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`no answer in 30 s: ${method} ${base}${path}`)));
    req.on("error", reject);
    req.end(body);
  });
}

const routes = (role: string, base: string, table: Record<string, RouteDef>, auth?: string): Target[] =>
  Object.values(table).map((r) => ({
    role,
    base,
    method: r.method,
    path: r.path,
    json: r.body !== undefined && r.body !== "bytes",
    auth,
    limit: r.body === undefined ? undefined : (r.maxBodyBytes ?? (r.body === "bytes" ? DEFAULT_BODY_LIMITS.bytes : DEFAULT_BODY_LIMITS.json)),
    anyBody: r === storeRoutes.putBlock,
  }));

/** What must not change: the solver's books, the store's blocks, every role's transaction count. */
interface Snapshot {
  resourceOffers: string[];
  deals: string[];
  modelOffers: string[];
  blocks: number;
  /** Transactions sent so far by each role and the job creator (the devnet mines empty blocks every second, so the head moves anyway). */
  nonces: Record<string, number>;
}

async function snapshot(): Promise<Snapshot> {
  const get = async (url: string) => (await fetch(url)).json() as Promise<Record<string, unknown>>;
  const ids = (list: unknown) => (list as { id: string }[]).map((o) => o.id).sort();
  const solver = net.network.solverUrl;
  const nonces: Record<string, number> = {};
  const accounts = {
    ...Object.fromEntries(Object.entries(net.state.roles).flatMap(([name, r]) => (r.address ? [[name, r.address]] : []))),
    jobCreator: net.state.jobCreator,
  };
  for (const [name, address] of Object.entries(accounts)) {
    const res = await fetch(net.network.rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_getTransactionCount", params: [address, "latest"] }),
    });
    nonces[name] = Number(((await res.json()) as { result: string }).result);
  }
  return {
    resourceOffers: ids((await get(`${solver}/v1/resource-offers`)).offers),
    deals: ids((await get(`${solver}/v1/deals`)).deals),
    modelOffers: ids((await get(`${solver}/v1/model-offers`)).offers),
    blocks: (await get(`${net.network.storeUrl}/v1/health`)).blocks as number,
    nonces,
  };
}

before(async () => {
  net = await startDevnet();
  const made = await lily(net.home, ["keys", "create", "--json"]);
  assert.equal(made.code, 0, made.stderr);
  apiKey = (JSON.parse(made.stdout) as { key: string }).key;
  const roles = net.state.roles;
  const gateway = (net.network as unknown as { gatewayUrl: string }).gatewayUrl;
  const modelOffers = (await (await fetch(`${net.network.solverUrl}/v1/model-offers`)).json()) as { offers: { offer: { endpoint: string } }[] };
  const leaseApis = [...new Set(modelOffers.offers.map((o) => o.offer.endpoint))];
  assert.ok(leaseApis.length >= 2, "both providers' lease APIs are known from their model offers");
  targets = [
    // The store reads raw bodies (a block, a CAR of blocks) up to its own limit, not the API's default.
    ...routes("store", net.network.storeUrl, storeRoutes).map((t) =>
      t.limit !== undefined && !t.json ? { ...t, limit: defaultStoreOptions.maxBlockBytes } : t,
    ),
    ...routes("solver", net.network.solverUrl, { ...solverRoutes, ...modelOfferRoutes }),
    ...leaseApis.flatMap((base, i) => [
      ...routes(`provider-${i + 1} leases`, base, leaseRoutes),
      { role: `provider-${i + 1} leases`, base, method: "POST", path: INFER_PATH, json: true },
    ]),
    ...["provider-1", "provider-2"].flatMap((p) =>
      ["/status", "/metrics"].map((path) => ({ role: `${p} metrics`, base: roles[p]!.url!, method: "GET", path, json: false })),
    ),
    ...routes("mediator", roles["mediator-1"]!.url!, mediatorRoutes),
    // The gateway's routes: the API (with a key, so bodies are read) and its Halo sign-in.
    // The store's IPFS trustless gateway.
    { role: "store", base: net.network.storeUrl, method: "GET", path: "/ipfs/:cid", json: false },
    ...["/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/jobs", "/v1/keys", "/v1/publish/artifacts", "/v1/publish/manifests"].map((path) => ({
      role: "gateway",
      base: gateway,
      method: "POST",
      path,
      json: true,
      auth: apiKey,
    })),
    ...["/v1/auth/signin", "/v1/auth/signout"].map((path) => ({ role: "gateway", base: gateway, method: "POST", path, json: true })),
    ...["/v1/models/:id", "/v1/receipts/:id", "/v1/jobs/:id", "/v1/jobs/:id/events", "/v1/keys/:id", "/v1/catalog", "/v1/catalog/:name", "/v1/usage"].map(
      (path) => ({
        role: "gateway",
        base: gateway,
        method: "GET",
        path,
        json: false,
        auth: apiKey,
      }),
    ),
  ];
  before_ = await snapshot();
});
after(async () => {
  await net?.stop();
});

/** A path parameter as an attacker would write one: not an id, encoded wrongly, climbing out. */
const badParam = fc.oneof(
  fc.string({ maxLength: 80 }).map(encodeURIComponent),
  fc.constantFrom("%", "%zz", "..", "%2e%2e", "0x", `0x${"g".repeat(64)}`, `0x${"a".repeat(63)}`, "baf", "x".repeat(5000), "%00", "null"),
  fc.stringMatching(/^0x[0-9a-f]{64}$/), // well-formed, but nothing has that id
);

/** A body that is not what the route takes: any JSON value, broken JSON, binary, or nothing. */
const badBody = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 300 }), // mostly not JSON at all
  fc.constantFrom("{", "[1,2", '{"a":}', "null", "{}", "[]", '"x"', "0", "true", '{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{}}}'),
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString("latin1")),
  fc.record({ model: fc.constantFrom("tiny", "nope", ""), messages: fc.anything({ maxDepth: 2 }), max_tokens: fc.anything() }).map((v) => JSON.stringify(v)),
);

const fillPath = (path: string, param: string) => path.replace(/:[a-zA-Z]+/g, param);

/** A 2xx that a message of this kind may honestly get: none. Anything else but a 4xx is a failure. */
const isClear4xx = (r: Reply) => r.status >= 400 && r.status < 500 && r.body.length > 0;

test(`${TOTAL.toLocaleString("en")} malformed messages to every endpoint: every reply a clear 4xx`, { timeout: 20 * 60_000 }, async () => {
  // The store's PUT takes any bytes as a block by design: its limit is the oversized test's.
  const fuzzed = targets.filter((t) => !t.anyBody);
  const message = fc.record({
    target: fc.constantFrom(...fuzzed),
    param: badParam,
    body: badBody,
    contentType: fc.constantFrom("application/json", "text/plain", "application/octet-stream", ""),
  });
  const samples = fc.sample(message, { numRuns: TOTAL, seed: SEED });
  const failures: string[] = [];
  let sent = 0;
  let next = 0;
  async function worker() {
    while (next < samples.length) {
      const m = samples[next++]!;
      const t = m.target;
      const withParam = t.path.includes(":");
      // A route with no parameter and no body gets a bad query and a body it did not ask for.
      const path = withParam ? fillPath(t.path, m.param) : `${t.path}?${m.param}=${m.param}`;
      const headers: Record<string, string> = {};
      if (m.contentType) headers["content-type"] = m.contentType;
      if (t.auth) headers.authorization = `Bearer ${t.auth}`;
      const method = t.method === "GET" ? "GET" : t.method;
      const body = method === "GET" ? undefined : m.body;
      let reply: Reply;
      try {
        reply = await send(t.base, method, path, headers, body);
      } catch (e) {
        failures.push(`${t.role} ${method} ${path}: no reply (${(e as Error).message})`);
        continue;
      } finally {
        sent++;
      }
      // GETs that only read (status, metrics, catalogue) may answer a junk query with 200: what
      // matters there is that they answer; every route that takes a parameter or a body must refuse.
      const readsOnly = method === "GET" && !withParam;
      if (readsOnly ? reply.status >= 500 : !isClear4xx(reply))
        failures.push(`${t.role} ${method} ${path.slice(0, 120)} body=${JSON.stringify(body?.slice(0, 80))}: ${reply.status} ${reply.body.slice(0, 160)}`);
    }
  }
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  assert.equal(sent, TOTAL);
  assert.deepEqual(failures.slice(0, 20), [], `${failures.length} of ${TOTAL} messages did not get a clear 4xx`);
});

test("oversized bodies are refused with 413 by every route that takes one, announced or streamed", async () => {
  const failures: string[] = [];
  for (const t of targets.filter((t) => t.method !== "GET")) {
    // One byte over the route's limit; the gateway's own routes are well under 5 MiB.
    const big = Buffer.alloc((t.limit ?? 5 * 1024 * 1024) + 1, 0x7b);
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (t.auth) headers.authorization = `Bearer ${t.auth}`;
    const path = fillPath(t.path, `0x${"1".repeat(64)}`);
    for (const how of ["announced", "chunked"] as const) {
      const h = how === "announced" ? { ...headers, "content-length": String(big.length) } : { ...headers, "transfer-encoding": "chunked" };
      try {
        const r = await send(t.base, t.method, path, h, big);
        // 413 from the body limit, or a 4xx refusing the caller or the id before any body is read.
        if (!isClear4xx(r)) failures.push(`${t.role} ${t.method} ${t.path} (${how}): ${r.status} ${r.body.slice(0, 120)}`);
      } catch (e) {
        // A server may answer 413 and close before the client has finished sending: that is a refusal too.
        const msg = (e as Error).message;
        if (!/EPIPE|ECONNRESET|socket hang up/.test(msg)) failures.push(`${t.role} ${t.method} ${t.path} (${how}): ${msg}`);
      }
    }
  }
  assert.deepEqual(failures, []);
});

test("mis-signed and replayed records are refused, and a replay changes nothing", async () => {
  const solver = net.network.solverUrl;
  const offers = ((await (await fetch(`${solver}/v1/resource-offers`)).json()) as { offers: { offer: Record<string, unknown>; signature: string }[] }).offers;
  const models = ((await (await fetch(`${solver}/v1/model-offers`)).json()) as { offers: { offer: Record<string, unknown>; signature: string }[] }).offers;
  assert.ok(offers.length > 0 && models.length > 0);
  const post = (path: string, body: unknown) => send(solver, "POST", path, { "content-type": "application/json" }, JSON.stringify(body));
  const failures: string[] = [];
  const flip = (sig: string) => `${sig.slice(0, 10)}${sig[10] === "a" ? "b" : "a"}${sig.slice(11)}`;
  for (const [path, list] of [
    ["/v1/resource-offers", offers],
    ["/v1/model-offers", models],
  ] as const) {
    for (const o of list) {
      // Mis-signed: one signature byte changed, or the terms changed under the signature.
      const tampered = [
        { offer: o.offer, signature: flip(o.signature) },
        { offer: { ...o.offer, nonce: String(BigInt(String(o.offer.nonce)) + 1n) }, signature: o.signature },
        { offer: { ...o.offer, provider: "0x000000000000000000000000000000000000dEaD" }, signature: o.signature },
      ];
      for (const body of tampered) {
        const r = await post(path, body);
        if (!isClear4xx(r)) failures.push(`mis-signed ${path}: ${r.status} ${r.body.slice(0, 160)}`);
      }
      // Replayed: the provider's own signed offer, sent again by someone else, many times.
      for (let i = 0; i < 5; i++) {
        const r = await post(path, { offer: o.offer, signature: o.signature });
        if (r.status >= 500) failures.push(`replayed ${path}: ${r.status} ${r.body.slice(0, 160)}`);
      }
    }
  }
  assert.deepEqual(failures, []);
});

test("the solver's WebSocket survives junk subscriptions and frames", async () => {
  const ws = (query: string) => new WebSocket(`${net.network.solverUrl.replace(/^http/, "ws")}${EVENTS_PATH}${query}`);
  const outcomes = await Promise.all(
    ["?provider=nope", "?deal=0x12", "?evil=1", `?jobOffer=${"%".repeat(10)}`, ""].map(
      (q) =>
        new Promise<string>((resolve) => {
          const s = ws(q);
          s.on("unexpected-response", (_req, res) => resolve(`refused ${res.statusCode}`));
          s.on("open", () => {
            // Junk text and binary frames, then one over the hub's frame limit.
            s.send("{not json");
            s.send(Buffer.alloc(100, 1));
            s.send(Buffer.alloc(64 * 1024, 2));
          });
          s.on("close", (code) => resolve(`closed ${code}`));
          s.on("error", () => {});
          setTimeout(() => resolve("open"), 5000).unref();
        }),
    ),
  );
  assert.deepEqual(outcomes.slice(0, 4), ["refused 400", "refused 400", "refused 400", "refused 400"]);
  assert.match(outcomes[4]!, /^closed 10(09|08|03)$/, "an oversized frame closes that subscriber");
  assert.equal((await fetch(`${net.network.solverUrl}/v1/health`)).status, 200, "the solver still answers");
});

test("the solver's server-sent event stream refuses junk subscriptions with a 400 and serves a good one", async () => {
  const statuses = await Promise.all(
    ["?provider=nope", "?deal=0x12", "?evil=1", `?jobOffer=${"%".repeat(10)}`, `?provider=${"a".repeat(100_000)}`, `?deal=0x${"ab".repeat(32)}`].map(
      async (q) => {
        const stop = new AbortController();
        const res = await fetch(`${net.network.solverUrl}${EVENTS_PATH}${q}`, { signal: stop.signal });
        stop.abort(); // a stream that opened stays open until its subscriber leaves
        return res.status;
      },
    ),
  );
  // The 100 kB query is over Node's header limit: refused by the HTTP parser itself (431).
  assert.deepEqual(statuses, [400, 400, 400, 400, 431, 200]);
  assert.equal((await fetch(`${net.network.solverUrl}/v1/health`)).status, 200, "the solver still answers");
});

test("afterwards every role is alive and answers, and nothing changed", async () => {
  for (const [name, role] of Object.entries(net.state.roles)) {
    assert.doesNotThrow(() => process.kill(role.pid, 0), `${name} is still running`);
    if (role.url && !name.startsWith("provider")) assert.equal((await fetch(`${role.url}/v1/health`)).status, 200, `${name} answers`);
    if (name.startsWith("provider")) assert.equal((await fetch(`${role.url}/status`)).status, 200, `${name} answers`);
  }
  const now = await snapshot();
  assert.deepEqual(now.deals, before_.deals, "no deal was made");
  assert.deepEqual(now.resourceOffers, before_.resourceOffers, "the resource offers are the same ones");
  assert.deepEqual(now.modelOffers, before_.modelOffers, "the model offers are the same ones");
  assert.equal(now.blocks, before_.blocks, "no block was stored");
  assert.deepEqual(now.nonces, before_.nonces, "no role sent a transaction");
});
