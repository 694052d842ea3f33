// A real JSON-RPC hop between a provider and anvil that answers the next few transactions the way
// a node does when their nonce was already used ("nonce too low"), as when another process sends
// from the same key. Everything else is passed through untouched.
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface FaultyRpc {
  url: string;
  /** How many transactions are still to be answered "nonce too low". */
  readonly faultsLeft: number;
  close(): Promise<void>;
}

export async function startFaultyRpc(upstream: string, faults: number): Promise<FaultyRpc> {
  let left = faults;
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString();
    const call = JSON.parse(body) as { id: number; method: string };
    // Both ways of handing a node a transaction: plain, and with its receipt back (EIP-7966).
    if ((call.method === "eth_sendRawTransaction" || call.method === "eth_sendRawTransactionSync") && left > 0) {
      left--;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ jsonrpc: "2.0", id: call.id, error: { code: -32003, message: "nonce too low" } }));
      return;
    }
    const answer = await fetch(upstream, { method: "POST", headers: { "content-type": "application/json" }, body });
    res.writeHead(answer.status, { "content-type": "application/json" });
    res.end(await answer.text());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get faultsLeft() {
      return left;
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}
