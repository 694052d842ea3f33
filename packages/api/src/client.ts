// A typed client derived from route definitions: one async function per route. Responses are
// validated with the route's schema; an error response is rebuilt into the LilyError the server
// threw, so callers branch on `code`, never on text. A refused connection is UNREACHABLE.
import { LilyError, parse, toWire, type SerializedError } from "@lily/protocol";
import type { RouteDef, ClientInput, Output } from "./route.ts";
import { buildPath } from "./route.ts";

export type Client<T extends Record<string, RouteDef>> = {
  [K in keyof T]: (input: ClientInput<T[K]>) => Promise<Output<T[K]>>;
};

export interface ClientOptions {
  /** Used in UNREACHABLE errors so the user knows which peer did not answer. */
  peer?: string;
  timeoutMs?: number;
}

export function createClient<T extends Record<string, RouteDef>>(baseUrl: string, routes: T, opts: ClientOptions = {}): Client<T> {
  const base = baseUrl.replace(/\/+$/, "");
  const peer = opts.peer ?? base;
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
        init.body = JSON.stringify(toWire(input.body));
        init.headers = { "content-type": "application/json" };
      }
      let res: Response;
      try {
        res = await fetch(url, init);
      } catch (e) {
        throw new LilyError({ code: "UNREACHABLE", message: `${peer} did not answer (${route.method} ${url})`, details: { url }, cause: e });
      }
      if (!res.ok) {
        const text = await res.text();
        let err: SerializedError | undefined;
        try {
          err = (JSON.parse(text) as { error?: SerializedError }).error;
        } catch {
          /* not a Lily server: fall through with the raw text */
        }
        throw err ? LilyError.fromJSON(err) : new LilyError({ code: "INTERNAL", message: `${peer}: HTTP ${res.status} ${text.slice(0, 200)}` });
      }
      if (route.response === "bytes") return new Uint8Array(await res.arrayBuffer());
      return parse(route.response, await res.json(), `${peer} response`);
    };
  }
  return client as unknown as Client<T>;
}
