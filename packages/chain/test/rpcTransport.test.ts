// rpcTransport against viem's own http transport, call for call: the same results from a real
// node, and the same error classes (and statuses) for a JSON-RPC error, a refused connection, a
// node that never answers, non-JSON and error statuses, and an oversized answer. And the reason it
// exists: a chain read through it loads no undici.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";
import { createClient, http as viemHttp, type Transport } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { devAccounts, startAnvil, type Anvil } from "@lily/chain";
import { rpcTransport } from "../src/rpcTransport.ts";

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
