// A real JSON-RPC hop between a test's client and a node (anvil): it counts the calls by method and
// lets the test answer a single call itself, with the error a node would give (a used nonce, a
// method it does not have). Everything else, batches included, passes through untouched.
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface RpcCall {
  id: number;
  method: string;
}

export interface RpcHop {
  url: string;
  /** How many calls of each method went through, each call of a batch counted. */
  calls: Map<string, number>;
  close(): Promise<void>;
}

/** `answer`: the JSON-RPC error to give a call instead of passing it on, or undefined to pass it on. */
export async function startRpcHop(
  upstream: string,
  answer: (call: RpcCall) => { code: number; message: string } | undefined = () => undefined,
): Promise<RpcHop> {
  const calls = new Map<string, number>();
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString();
    const parsed = JSON.parse(body) as RpcCall | RpcCall[];
    for (const call of Array.isArray(parsed) ? parsed : [parsed]) calls.set(call.method, (calls.get(call.method) ?? 0) + 1);
    const error = Array.isArray(parsed) ? undefined : answer(parsed);
    if (error) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ jsonrpc: "2.0", id: (parsed as RpcCall).id, error }));
      return;
    }
    const forwarded = await fetch(upstream, { method: "POST", headers: { "content-type": "application/json" }, body });
    res.writeHead(forwarded.status, { "content-type": "application/json" });
    res.end(await forwarded.text());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
