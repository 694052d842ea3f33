// A route is defined once — method, path, and schemas for params, query, body and response — and
// both the typed client (client.ts) and the server handler (server.ts) are derived from it, so the
// two sides cannot drift apart. Bodies are JSON unless the route says "bytes".
import type * as z from "zod";
import { LilyError } from "@lily/protocol";

export type Method = "GET" | "POST" | "PUT";

export interface RouteDef {
  method: Method;
  /** Express-style path, e.g. `/v1/deals/:id`. */
  path: string;
  params?: z.ZodType;
  query?: z.ZodType;
  /** A schema for a JSON body, or "bytes" for a raw octet-stream body. */
  body?: z.ZodType | "bytes";
  /**
   * The largest body the server reads for this route, in bytes. Without it, JSON bodies get
   * `BodyLimits.json` (256 KiB unless the server says otherwise) and "bytes" bodies `BodyLimits.bytes`.
   */
  maxBodyBytes?: number;
  /** A schema for a JSON response, or "bytes" for a raw octet-stream response. */
  response: z.ZodType | "bytes";
}

type Infer<T> = T extends z.ZodType ? z.output<T> : T extends "bytes" ? Uint8Array : undefined;
type InferIn<T> = T extends z.ZodType ? z.input<T> : T extends "bytes" ? Uint8Array : undefined;

/** What a server handler receives (validated and parsed). */
export interface HandlerInput<R extends RouteDef> {
  params: Infer<R["params"]>;
  query: Infer<R["query"]>;
  body: Infer<R["body"]>;
}

/** What a client call takes (wire shapes, before parsing). Omitted parts are not needed. */
export type ClientInput<R extends RouteDef> = (R["params"] extends z.ZodType ? { params: InferIn<R["params"]> } : object) &
  (R["query"] extends z.ZodType ? { query?: InferIn<R["query"]> } : object) &
  (R["body"] extends z.ZodType | "bytes" ? { body: InferIn<R["body"]> } : object);

export type Output<R extends RouteDef> = Infer<R["response"]>;

export function defineRoutes<T extends Record<string, RouteDef>>(routes: T): T {
  return routes;
}

/** Fill `:name` segments of a path. */
export function buildPath(path: string, params: Record<string, string> | undefined): string {
  return path.replace(/:([a-zA-Z]+)/g, (_m, k: string) => {
    const v = params?.[k];
    if (v === undefined) throw new Error(`missing path parameter ${k}`);
    return encodeURIComponent(v);
  });
}

/**
 * Match a concrete path against a route path; returns the decoded params, or undefined when the
 * path is not this route's. A param that is not valid percent-encoding is INVALID_INPUT naming it.
 */
export function matchPath(pattern: string, actual: string): Record<string, string> | undefined {
  const p = pattern.split("/");
  const a = actual.split("/");
  if (p.length !== a.length || p.some((seg, i) => !seg.startsWith(":") && seg !== a[i])) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) if (p[i]!.startsWith(":")) params[p[i]!.slice(1)] = decodeParam(p[i]!.slice(1), a[i]!);
  return params;
}

function decodeParam(name: string, raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new LilyError({ code: "INVALID_INPUT", field: `params.${name}`, message: `params.${name}: not valid percent-encoding` });
  }
}
