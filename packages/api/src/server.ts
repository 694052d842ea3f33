// Serve a set of route definitions with node:http. Every request is validated against the
// route's schemas before a handler sees it; a LilyError thrown by a handler becomes a JSON error
// with its code and field, anything else a 500 INTERNAL that is logged, never swallowed.
import http from "node:http";
import { LilyError, parse } from "@lily/protocol";
import { toWire } from "@lily/protocol";
import type { RouteDef, HandlerInput, Output } from "./route.ts";
import { matchPath } from "./route.ts";
import { httpStatusFor } from "./httpStatus.ts";

export type Handlers<T extends Record<string, RouteDef>> = {
  [K in keyof T]: (input: HandlerInput<T[K]>) => Promise<Output<T[K]>> | Output<T[K]>;
};

export interface ServeOptions {
  host?: string;
  port?: number;
  /** Largest accepted request body; uploads above it are refused with INVALID_INPUT. */
  maxBodyBytes?: number;
  onError?: (err: unknown, req: { method?: string; url?: string }) => void;
}

export interface RunningServer {
  server: http.Server;
  url: string;
  port: number;
  close(): Promise<void>;
}

async function readBody(req: http.IncomingMessage, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) throw new LilyError({ code: "INVALID_INPUT", field: "body", message: `body: larger than ${max} bytes` });
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function send(res: http.ServerResponse, status: number, body: unknown, bytes = false): void {
  if (bytes) {
    res.writeHead(status, { "content-type": "application/octet-stream" });
    res.end(body as Uint8Array);
    return;
  }
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(toWire(body)));
}

export function createHandler<T extends Record<string, RouteDef>>(routes: T, handlers: Handlers<T>, opts: ServeOptions = {}) {
  const max = opts.maxBodyBytes ?? 64 * 1024 * 1024;
  const entries = Object.entries(routes) as [keyof T & string, RouteDef][];
  return async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    try {
      const url = new URL(req.url ?? "/", "http://localhost");
      let found: { name: keyof T & string; route: RouteDef; params: Record<string, string> } | undefined;
      for (const [name, route] of entries) {
        if (route.method !== req.method) continue;
        const params = matchPath(route.path, url.pathname);
        if (params) {
          found = { name, route, params };
          break;
        }
      }
      if (!found) throw new LilyError({ code: "NOT_FOUND", field: "path", message: `no route ${req.method} ${url.pathname}` });
      const { route } = found;
      const params = route.params ? parse(route.params, found.params, "params") : undefined;
      const query = route.query ? parse(route.query, Object.fromEntries(url.searchParams), "query") : undefined;
      let body: unknown;
      if (route.body === "bytes") body = new Uint8Array(await readBody(req, max));
      else if (route.body) {
        const raw = await readBody(req, max);
        let json: unknown;
        try {
          json = JSON.parse(raw.toString("utf8"));
        } catch {
          throw new LilyError({ code: "INVALID_INPUT", field: "body", message: "body: not valid JSON" });
        }
        body = parse(route.body, json, "body");
      }
      const out = await handlers[found.name]({ params, query, body } as never);
      send(res, 200, out, route.response === "bytes");
    } catch (err) {
      if (err instanceof LilyError) {
        send(res, httpStatusFor(err.code), { error: err.toJSON() });
        return;
      }
      opts.onError?.(err, req);
      send(res, 500, { error: { code: "INTERNAL", message: err instanceof Error ? err.message : String(err) } });
    }
  };
}

/** Start an HTTP server for the routes. Port 0 picks a free port; the returned url is exact. */
export async function serve<T extends Record<string, RouteDef>>(
  routes: T,
  handlers: Handlers<T>,
  opts: ServeOptions = {},
): Promise<RunningServer> {
  const server = http.createServer(createHandler(routes, handlers, opts));
  const host = opts.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    server,
    port,
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
