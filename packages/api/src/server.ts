// Serve a set of route definitions with node:http. Every request is validated against the
// route's schemas before a handler sees it; a LilyError thrown by a handler becomes a JSON error
// with its code and field, anything else a 500 INTERNAL that is logged, never swallowed. Nothing a
// client sends reaches the 500 branch: a bad path, query, method or body is a 4xx naming it.
import type http from "node:http";
import { LilyError, parse, wireJson } from "@lily/protocol";
import type { RouteDef, HandlerInput, Output } from "./route.ts";
import { matchPath } from "./route.ts";
import { httpStatusFor, HttpRefusal } from "./httpStatus.ts";
import { parseTarget } from "./requestTarget.ts";
import { announcesBody, bodyLimitOf, readBody, DEFAULT_BODY_LIMITS, type BodyLimits } from "./readBody.ts";

export type Handlers<T extends Record<string, RouteDef>> = {
  [K in keyof T]: (input: HandlerInput<T[K]>) => Promise<Output<T[K]>> | Output<T[K]>;
};

export interface ServeOptions {
  host?: string;
  port?: number;
  /**
   * Largest bodies for routes that declare no `maxBodyBytes`, by kind; larger ones are refused
   * with 413 INVALID_INPUT (field `body`). Defaults: `DEFAULT_BODY_LIMITS` (JSON 256 KiB, bytes 64 MiB).
   */
  bodyLimits?: Partial<BodyLimits>;
  onError?: (err: unknown, req: { method?: string; url?: string }) => void;
}

export interface RunningServer {
  server: http.Server;
  url: string;
  port: number;
  close(): Promise<void>;
}

function send(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  status: number,
  body: unknown,
  opts: { bytes?: boolean; headers?: Record<string, string> } = {},
): void {
  // Serialise first: an error here must still find the headers unsent.
  const payload = opts.bytes ? (body as Uint8Array) : wireJson(body);
  const headers: Record<string, string> = { "content-type": opts.bytes ? "application/octet-stream" : "application/json", ...opts.headers };
  // A body left unread is not drained for the next request on this connection: the connection closes.
  if (announcesBody(req) && !req.complete) headers.connection = "close";
  res.writeHead(status, headers);
  res.end(payload);
}

type Found<T> = { name: keyof T & string; route: RouteDef; params: Record<string, string> };

/** The route for this method and path; 404 when no route has the path, 405 when none takes the method. */
function findRoute<T>(entries: [keyof T & string, RouteDef][], method: string | undefined, pathname: string): Found<T> {
  const allowed: string[] = [];
  for (const [name, route] of entries) {
    const params = matchPath(route.path, pathname);
    if (!params) continue;
    if (route.method === method) return { name, route, params };
    allowed.push(route.method);
  }
  if (allowed.length === 0) throw new LilyError({ code: "NOT_FOUND", field: "path", message: `no route ${method} ${pathname}` });
  throw new HttpRefusal(
    405,
    { code: "INVALID_INPUT", field: "method", message: `method: ${pathname} takes ${allowed.join(", ")}, not ${method}`, details: { allowed } },
    { allow: allowed.join(", ") },
  );
}

/**
 * The request listener for the routes. Register it for "checkContinue" as well as "request" (as
 * `serve` does) so that a body over the limit is refused before the client is told to send it.
 */
export function createHandler<T extends Record<string, RouteDef>>(routes: T, handlers: Handlers<T>, opts: ServeOptions = {}) {
  const limits: BodyLimits = { ...DEFAULT_BODY_LIMITS, ...opts.bodyLimits };
  const entries = Object.entries(routes) as [keyof T & string, RouteDef][];
  return async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    try {
      const target = parseTarget(req.url);
      const found = findRoute<T>(entries, req.method, target.pathname);
      const { route } = found;
      const params = route.params ? parse(route.params, found.params, "params") : undefined;
      const query = route.query ? parse(route.query, target.query, "query") : undefined;
      const raw = await readBody(req, res, bodyLimitOf(route, limits));
      let body: unknown;
      if (route.body === "bytes") body = new Uint8Array(raw);
      else if (route.body) {
        let json: unknown;
        try {
          json = JSON.parse(raw.toString("utf8"));
        } catch {
          throw new LilyError({ code: "INVALID_INPUT", field: "body", message: "body: not valid JSON" });
        }
        body = parse(route.body, json, "body");
      }
      const out = await handlers[found.name]({ params, query, body } as never);
      send(req, res, 200, out, { bytes: route.response === "bytes" });
    } catch (err) {
      answerError(req, res, err, opts);
    }
  };
}

function answerError(req: http.IncomingMessage, res: http.ServerResponse, err: unknown, opts: ServeOptions): void {
  if (!(err instanceof LilyError)) opts.onError?.(err, req);
  try {
    if (err instanceof HttpRefusal) send(req, res, err.status, { error: err.toJSON() }, { headers: err.headers });
    else if (err instanceof LilyError) send(req, res, httpStatusFor(err.code), { error: err.toJSON() });
    else send(req, res, 500, { error: { code: "INTERNAL", message: err instanceof Error ? err.message : String(err) } });
  } catch (e) {
    // Only a LilyError whose details cannot be serialised gets here; the client sees the connection close.
    opts.onError?.(e, req);
    res.destroy();
  }
}

/**
 * node:http for every role that serves or calls over it (the store, the gateway, the provider's
 * lease and metrics servers, the executor's Docker client and OpenAI server): the module itself,
 * never `import http from "node:http"` for the value. That ES module facade reads every export,
 * among them the lazy WebSocket getters that load undici and worker_threads in a process that
 * never fetches (~2.3 MiB of the store's idle RSS, 1.5-3 MiB of the mediator's, the gateway's and
 * the provider's). packages/cli/test/rolesWithoutUndici.test.ts and the store's
 * leanStart.test.ts keep it so.
 */
export const nodeHttp = process.getBuiltinModule("node:http");

/** Start an HTTP server for the routes. Port 0 picks a free port; the returned url is exact. */
export async function serve<T extends Record<string, RouteDef>>(routes: T, handlers: Handlers<T>, opts: ServeOptions = {}): Promise<RunningServer> {
  const handle = createHandler(routes, handlers, opts);
  const server = nodeHttp.createServer(handle);
  server.on("checkContinue", handle);
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
