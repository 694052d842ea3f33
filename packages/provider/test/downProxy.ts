// A real HTTP hop to a server that can be "down" (every connection dropped) or up (requests
// passed through as they are), to start a provider while its solver does not answer.
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface DownProxy {
  url: string;
  up: boolean;
  close(): Promise<void>;
}

export async function startDownProxy(upstream: string): Promise<DownProxy> {
  const state = { up: false };
  const server = http.createServer(async (req, res) => {
    if (!state.up) return void req.socket.destroy();
    try {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => k !== "host" && k !== "content-length")) as Record<string, string>;
      const answer = await fetch(new URL(req.url!, upstream), { method: req.method, headers, ...(chunks.length && { body: Buffer.concat(chunks) }) });
      res.writeHead(answer.status, { "content-type": answer.headers.get("content-type") ?? "application/json" });
      res.end(Buffer.from(await answer.arrayBuffer()));
    } catch {
      // The upstream is gone (the test's network already stopped while a poll was in flight):
      // the client sees the connection dropped, as when the proxy is down, not an error here.
      req.socket.destroy();
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get up() {
      return state.up;
    },
    set up(v: boolean) {
      state.up = v;
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}
