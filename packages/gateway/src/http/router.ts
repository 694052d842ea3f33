// A small router for the gateway's hand-served routes: OpenAI's (whose errors have OpenAI's shape
// and whose answers may stream) and Lily's own. Each route names its method and path; a handler
// writes its own response; a route whose path is `*` takes what no other route matched (the
// studio's files). A thrown error becomes an OpenAI-shaped error if nothing was sent yet,
// else an error event on the open stream.
import type http from "node:http";
import { LilyError, parse } from "@lily/protocol";
import { HttpRefusal, matchPath, openAIError, readBody, sendOpenAIError, writeSse } from "@lily/api";
import type * as z from "zod";

export interface RequestContext {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  /** Aborted when the client goes away before the response has ended. */
  signal: AbortSignal;
}

export type Handler = (ctx: RequestContext) => Promise<void>;

export interface Route {
  method: "GET" | "POST" | "DELETE";
  /** A pattern (`/v1/jobs/:id`), or `*`: any path no other route matches, for this method only. */
  path: string;
  handler: Handler;
}

/** Largest JSON body a request may send (a long prompt fits; anything larger is refused unread). */
export const MAX_JSON_BODY = 4 * 1024 * 1024;

export function createRouter(routes: Route[], onError: (err: unknown) => void) {
  return async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const controller = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) controller.abort();
    });
    try {
      const url = new URL(req.url ?? "/", "http://gateway");
      let allowed: string[] = [];
      for (const route of routes) {
        // The catch-all answers only what no route claims (a POST to a GET route is still a 405).
        if (route.path === "*" && (allowed.length || route.method !== req.method)) continue;
        const params = route.path === "*" ? {} : matchPath(route.path, url.pathname);
        if (!params) continue;
        if (route.method !== req.method) {
          allowed.push(route.method);
          continue;
        }
        allowed = [];
        await route.handler({ req, res, params, query: url.searchParams, signal: controller.signal });
        return;
      }
      if (allowed.length)
        throw new HttpRefusal(
          405,
          { code: "INVALID_INPUT", field: "method", message: `${url.pathname} takes ${allowed.join(", ")}, not ${req.method}` },
          { allow: allowed.join(", ") },
        );
      throw new LilyError({ code: "NOT_FOUND", field: "path", message: `no route ${req.method} ${url.pathname}` });
    } catch (err) {
      if (!(err instanceof LilyError)) onError(err);
      if (res.destroyed) return;
      if (!res.headersSent) sendOpenAIError(res, err);
      else if (res.getHeader("content-type")?.toString().startsWith("text/event-stream")) {
        const { body } = openAIError(err);
        writeSse(res, { data: JSON.stringify(body) });
        res.end();
      } else res.end();
    }
  };
}

/** Read and validate a JSON body; a malformed one is a 400 naming the field. */
export async function jsonBody<S extends z.ZodType>(ctx: RequestContext, schema: S): Promise<z.output<S>> {
  const raw = await readBody(ctx.req, ctx.res, MAX_JSON_BODY);
  let json: unknown;
  try {
    json = JSON.parse(raw.toString("utf8"));
  } catch {
    throw new LilyError({ code: "INVALID_INPUT", field: "body", message: "We could not parse the JSON body of your request." });
  }
  return parse(schema, json, "body");
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body, (_k, v) => (typeof v === "bigint" ? v.toString() : v)));
}
