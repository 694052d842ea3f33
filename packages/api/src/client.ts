// A typed client derived from route definitions: one async function per route. Responses are
// validated with the route's schema; an error response is rebuilt into the LilyError the server
// threw, so callers branch on `code`, never on text. A refused connection, or a peer that does not
// finish answering within the timeout, is UNREACHABLE; a response larger than the client accepts
// is INTERNAL and is not read past the limit.
import { LilyError, nodeFetch, parse, readBodyLimited, toWire, type SerializedError, wireJson } from "@lily/protocol";
import type { RouteDef, ClientInput, Output } from "./route.ts";
import { buildPath } from "./route.ts";
import type { BodyLimits } from "./readBody.ts";

export type Client<T extends Record<string, RouteDef>> = {
  [K in keyof T]: (input: ClientInput<T[K]>) => Promise<Output<T[K]>>;
};

export interface ClientOptions {
  /** Used in UNREACHABLE errors so the user knows which peer did not answer. */
  peer?: string;
  /** For the whole exchange, response body included; 30 s by default. */
  timeoutMs?: number;
  /** Largest response read, by kind; defaults `DEFAULT_RESPONSE_LIMITS`. Error responses count as JSON. */
  maxResponseBytes?: Partial<BodyLimits>;
}

/** JSON 64 MiB (a long list of deals), bytes 256 MiB (the store's largest block by default). */
export const DEFAULT_RESPONSE_LIMITS: BodyLimits = { json: 64 * 1024 * 1024, bytes: 256 * 1024 * 1024 };

/** The response body, refused once it passes `limit` bytes (by its Content-Length if it declares one). */
function readLimited(res: Response, limit: number, peer: string): Promise<Uint8Array> {
  return readBodyLimited(
    res,
    limit,
    () => new LilyError({ code: "INTERNAL", message: `${peer}: response larger than ${limit} bytes`, details: { limitBytes: limit, status: res.status } }),
  );
}

const textOf = (body: Uint8Array) => new TextDecoder().decode(body.subarray(0, 200));

function jsonOf(body: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(body));
  } catch {
    return undefined;
  }
}

/** The LilyError a Lily server sent, or INTERNAL with the start of whatever else came back. */
function errorFrom(status: number, body: Uint8Array, peer: string): LilyError {
  const err = (jsonOf(body) as { error?: SerializedError } | undefined)?.error;
  if (typeof err?.code === "string" && typeof err.message === "string") return LilyError.fromJSON(err);
  return new LilyError({ code: "INTERNAL", message: `${peer}: HTTP ${status} ${textOf(body)}` });
}

export function createClient<T extends Record<string, RouteDef>>(baseUrl: string, routes: T, opts: ClientOptions = {}): Client<T> {
  const base = baseUrl.replace(/\/+$/, "");
  const peer = opts.peer ?? base;
  const limits: BodyLimits = { ...DEFAULT_RESPONSE_LIMITS, ...opts.maxResponseBytes };
  const client = {} as Record<string, (input: Record<string, unknown>) => Promise<unknown>>;
  for (const [name, route] of Object.entries(routes)) {
    client[name] = async (input = {}) => {
      let url = base + buildPath(route.path, input.params as Record<string, string> | undefined);
      const q = input.query as Record<string, unknown> | undefined;
      if (q) {
        const search = new URLSearchParams();
        for (const [k, v] of Object.entries(toWire(q) as Record<string, unknown>)) if (v !== undefined) search.set(k, String(v));
        if ([...search].length) url += `?${search}`;
      }
      const init: RequestInit = { method: route.method, signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000) };
      if (route.body === "bytes") {
        init.body = input.body as Uint8Array as BodyInit;
        init.headers = { "content-type": "application/octet-stream" };
      } else if (route.body) {
        init.body = wireJson(input.body);
        init.headers = { "content-type": "application/json" };
      }
      let res: Response;
      let body: Uint8Array;
      try {
        res = await nodeFetch(url, init);
        body = await readLimited(res, res.ok && route.response === "bytes" ? limits.bytes : limits.json, peer);
      } catch (e) {
        if (e instanceof LilyError) throw e;
        throw new LilyError({ code: "UNREACHABLE", message: `${peer} did not answer (${route.method} ${url})`, details: { url }, cause: e });
      }
      if (!res.ok) throw errorFrom(res.status, body, peer);
      if (route.response === "bytes") return body;
      const json = jsonOf(body);
      if (json === undefined) throw new LilyError({ code: "INTERNAL", message: `${peer}: response is not JSON: ${textOf(body)}` });
      return parse(route.response, json, `${peer} response`);
    };
  }
  return client as unknown as Client<T>;
}
