// rpcTransport against viem's own http transport, call for call: the same results from a real
// node, and the same error classes (and statuses) for a JSON-RPC error, a refused connection, a
// node that never answers, non-JSON and error statuses, and an oversized answer. And the reason it
// exists: a chain read through it loads no undici. And its batches: calls made together go as one
// request (counted by a proxy in front of the node), each with the answer or error it would have
// had alone; a node that refuses batches gets them one by one.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";
import { createClient, http as viemHttp, type Transport } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { devAccounts, startAnvil, type Anvil } from "@lily/chain";
import { MAX_BATCH, rpcTransport } from "../src/rpcTransport.ts";

let anvil: Anvil;
let odd: http.Server;
let oddUrl: string;
const huge = `{"jsonrpc":"2.0","id":1,"result":"0x${"ab".repeat(6_000_000)}"}`;

before(async () => {
  anvil = await startAnvil({});
  // A server answering each path in one of the ways a JSON-RPC endpoint can go wrong.
  odd = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      if (req.url === "/never") return;
      if (req.url === "/html500") {
        res.writeHead(500, { "content-type": "text/html" });
        res.end("<h1>bad gateway</h1>");
      } else if (req.url === "/limited") {
        res.writeHead(429, { "content-type": "application/json" });
        res.end('{"jsonrpc":"2.0","id":1,"error":{"code":-32005,"message":"slow down"}}');
      } else if (req.url === "/huge") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(huge);
      } else if (req.url === "/notjson") {
        res.writeHead(200, { "content-type": "text/plain" });
        res.end("hello");
      }
    });
  });
  await new Promise<void>((r) => odd.listen(0, "127.0.0.1", r));
  oddUrl = `http://127.0.0.1:${(odd.address() as AddressInfo).port}`;
});
after(async () => {
  odd.closeAllConnections();
  odd.close();
  await anvil.stop();
});

const both = (url: string, config: { timeout?: number } = {}): [string, Transport][] => [
  ["viem http", viemHttp(url, { ...config, retryCount: 0 })],
  ["rpcTransport", rpcTransport(url, { ...config, retryCount: 0 })],
];

/** What a call came to: its result, or its error's class, status and JSON-RPC code. */
async function outcome(transport: Transport, method: string, params: unknown[] = []): Promise<unknown> {
  const client = createClient({ transport });
  try {
    return { result: await client.request({ method, params } as never) };
  } catch (e) {
    const err = e as { name: string; status?: number; code?: number; cause?: { name?: string; code?: number } };
    return { error: err.name, status: err.status, code: err.code ?? err.cause?.code };
  }
}

test("a real node's answers and JSON-RPC errors come back the same through both", async () => {
  const from = privateKeyToAccount(devAccounts[0]!).address;
  const calls: [string, unknown[]][] = [
    ["eth_chainId", []],
    ["eth_blockNumber", []],
    ["eth_getBalance", [from, "latest"]],
    ["eth_getBlockByNumber", ["0x0", false]],
    ["eth_call", [{ from, to: from, data: "0x" }, "latest"]],
    ["eth_getTransactionReceipt", [`0x${"11".repeat(32)}`]],
    ["no_suchMethod", []],
    ["eth_getBalance", ["not an address", "latest"]],
  ];
  for (const [method, params] of calls) {
    const [[, a], [, b]] = both(anvil.rpcUrl);
    assert.deepEqual(await outcome(b, method, params), await outcome(a, method, params), method);
  }
});

test("failures come back as the same errors through both", async () => {
  const closed = http.createServer();
  await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
  const closedUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
  await new Promise((r) => closed.close(r));
  const cases: [string, string, { timeout?: number }, Record<string, unknown>][] = [
    ["a refused connection", closedUrl, {}, { error: "HttpRequestError" }],
    ["a node that never answers", `${oddUrl}/never`, { timeout: 300 }, { error: "TimeoutError" }],
    ["an HTML error page", `${oddUrl}/html500`, {}, { error: "HttpRequestError", status: 500 }],
    ["a JSON-RPC error with status 429", `${oddUrl}/limited`, {}, { error: "LimitExceededRpcError", code: -32005 }],
    ["an answer past 10 MiB", `${oddUrl}/huge`, {}, { error: "ResponseBodyTooLargeError" }],
    ["a 200 that is not JSON", `${oddUrl}/notjson`, {}, { error: "HttpRequestError" }],
  ];
  for (const [what, url, config, expected] of cases) {
    const got = await Promise.all(both(url, config).map(([, t]) => outcome(t, "eth_chainId")));
    for (const [i, [name]] of both(url, config).entries()) {
      const g = got[i] as Record<string, unknown>;
      for (const [k, v] of Object.entries(expected)) assert.equal(g[k], v, `${what}, ${name}: ${k}`);
    }
    assert.deepEqual(got[1], got[0], what);
  }
});

test("a chain read through createLilyClient loads no undici", async () => {
  const script = `import { createLilyClient } from ${JSON.stringify(new URL("../src/index.ts", import.meta.url).href)};
    const c = createLilyClient({ rpcUrl: ${JSON.stringify(anvil.rpcUrl)}, addresses: { chainId: 31337, token: "0x${"11".repeat(20)}", deals: "0x${"22".repeat(20)}", deployBlock: 0 } });
    await c.publicClient.getBlockNumber();
    console.log(process.moduleLoadList.some((m) => m.includes("undici")));`;
  const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
  assert.equal(stdout.trim(), "false");
});

/** A proxy to the node that counts the requests it forwards; on /nobatch it refuses a batch as some nodes do. */
async function countingProxy(): Promise<{ url: string; requests: unknown[]; close: () => Promise<void> }> {
  const requests: unknown[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      requests.push(body);
      if (req.url === "/nobatch" && Array.isArray(body)) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end('{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"batch requests are not supported"}}');
        return;
      }
      const answer = await fetch(anvil.rpcUrl, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      res.writeHead(answer.status, { "content-type": "application/json" });
      res.end(await answer.text());
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = () => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  };
  return { url, requests, close };
}

const from = () => privateKeyToAccount(devAccounts[0]!).address;
/** Reads that go in batches, whose answers differ, with JSON-RPC errors (invalid params) among them. */
const mixedCalls = (): [string, unknown[]][] => [
  ["eth_blockNumber", []],
  ["eth_getBalance", [from(), "latest"]],
  ["eth_getBlockByNumber", ["0x0", false]],
  ["eth_getBalance", ["not an address", "latest"]],
  ["eth_call", [{ from: from(), to: from(), data: "0x" }, "latest"]],
  ["eth_getLogs", [{ fromBlock: "0x0", toBlock: "0x0" }]],
  ["eth_call", [{ to: "not an address" }, "latest"]],
];

/** Each call's outcome through viem's own transport, one request at a time. */
async function eachAlone(calls: [string, unknown[]][]): Promise<unknown[]> {
  const out = [];
  for (const [method, params] of calls) out.push(await outcome(viemHttp(anvil.rpcUrl, { retryCount: 0 }), method, params));
  return out;
}

test("calls made together go as one batch, each with the answer or error it would have had alone", async () => {
  const proxy = await countingProxy();
  try {
    const calls = mixedCalls();
    const alone = await eachAlone(calls);
    const transport = rpcTransport(proxy.url, { retryCount: 0 });
    const together = await Promise.all(calls.map(([method, params]) => outcome(transport, method, params)));
    assert.deepEqual(together, alone);
    assert.equal(proxy.requests.length, 1, "one request for the whole burst");
    assert.ok(Array.isArray(proxy.requests[0]) && proxy.requests[0].length === calls.length);
    // A call alone in its turn is a plain request, as before.
    assert.deepEqual(await outcome(transport, "eth_blockNumber"), alone[0]);
    assert.equal(Array.isArray(proxy.requests[1]), false);
    // More than a batch holds: split, every call answered.
    const many = await Promise.all(Array.from({ length: MAX_BATCH + 5 }, () => outcome(transport, "eth_getBalance", [from(), "latest"])));
    assert.ok(many.every((m) => JSON.stringify(m) === JSON.stringify(alone[1])));
    assert.deepEqual(
      proxy.requests.slice(2).map((r) => (Array.isArray(r) ? r.length : 1)),
      [MAX_BATCH, 5],
    );
    // A transaction's steps (and any call but the bursty reads) are never held for a batch.
    const sent = proxy.requests.length;
    await Promise.all(
      ["eth_chainId", "eth_getTransactionCount", "eth_getTransactionReceipt"].map((m) =>
        outcome(transport, m, m === "eth_getTransactionReceipt" ? [`0x${"11".repeat(32)}`] : m === "eth_chainId" ? [] : [from(), "latest"]),
      ),
    );
    assert.deepEqual(
      proxy.requests.slice(sent).map((r) => Array.isArray(r)),
      [false, false, false],
    );
    // Switched off, every call is its own request.
    const unbatched = rpcTransport(proxy.url, { retryCount: 0, batch: false });
    const before = proxy.requests.length;
    await Promise.all(calls.map(([method, params]) => outcome(unbatched, method, params)));
    assert.equal(proxy.requests.length - before, calls.length);
  } finally {
    await proxy.close();
  }
});

test("a node that refuses batches gets each call on its own, and no batch after", async () => {
  const proxy = await countingProxy();
  try {
    const calls = mixedCalls();
    const alone = await eachAlone(calls);
    const transport = rpcTransport(`${proxy.url}/nobatch`, { retryCount: 0 });
    assert.deepEqual(await Promise.all(calls.map(([method, params]) => outcome(transport, method, params))), alone);
    assert.deepEqual(await Promise.all(calls.map(([method, params]) => outcome(transport, method, params))), alone);
    const batches = proxy.requests.filter((r) => Array.isArray(r)).length;
    assert.equal(batches, 1, "one refused batch, then single requests");
    assert.equal(proxy.requests.length, 1 + 2 * calls.length);
  } finally {
    await proxy.close();
  }
});

test("a batch that fails as a whole fails each call as its own request would; a caller that aborts stops waiting alone", async () => {
  for (const [url, config, expected] of [
    [`${oddUrl}/html500`, {}, { error: "HttpRequestError", status: 500 }],
    [`${oddUrl}/never`, { timeout: 300 }, { error: "TimeoutError" }],
  ] as const) {
    const transport = rpcTransport(url, { ...config, retryCount: 0 });
    const got = (await Promise.all([0, 1, 2].map(() => outcome(transport, "eth_blockNumber")))) as Record<string, unknown>[];
    for (const g of got) for (const [k, v] of Object.entries(expected)) assert.equal(g[k], v, `${url}: ${k}`);
  }
  const proxy = await countingProxy();
  try {
    const transport = rpcTransport(proxy.url, { retryCount: 0 });
    const client = createClient({ transport });
    const abort = new AbortController();
    const reason = new Error("caller gave up");
    const gaveUp = transport({ retryCount: 0 }).request({ method: "eth_blockNumber" }, { signal: abort.signal } as never);
    const stayed = client.request({ method: "eth_getBalance", params: [from(), "latest"] } as never);
    abort.abort(reason);
    await assert.rejects(gaveUp, (e) => e === reason);
    assert.match(String(await stayed), /^0x[0-9a-f]+$/);
    assert.equal(proxy.requests.length, 1);
    assert.ok(Array.isArray(proxy.requests[0]), "the two went as one batch");
  } finally {
    await proxy.close();
  }
});
