// One JSON-RPC call to the embedded node, outside any viem client: starting it, stopping its
// mining, saving its state. The answer is read to the end (so the connection is free again rather
// than held by an unread answer), and an HTTP or JSON-RPC error is thrown, naming the method.
import { nodeFetch } from "@lily/protocol";

export async function anvilRpc(rpcUrl: string, method: string, params: readonly unknown[] = [], signal?: AbortSignal): Promise<unknown> {
  const res = await nodeFetch(rpcUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    ...(signal && { signal }),
  });
  const body = (await res.json()) as { result?: unknown; error?: { message?: string } };
  if (!res.ok || body.error || body.result === undefined) throw new Error(`${method}: ${body.error?.message ?? `HTTP ${res.status}`}`);
  return body.result;
}
