// The gateway's HTTP API as the studio uses it: plain fetch on the page's own origin (the gateway
// serves the studio), JSON in and out, and errors in OpenAI's shape turned into GatewayError.

/** A request the gateway refused, with its status, code and message. */
export class GatewayError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** The gateway's URL for a path like `v1/catalog`, relative to where the studio is served. */
export function gatewayUrl(path: string): string {
  return new URL(path.replace(/^\//, ""), document.baseURI).toString();
}

export interface CallOptions {
  method?: string;
  /** A session token or an API key, sent as a bearer token. */
  auth?: string | null;
  body?: unknown;
  signal?: AbortSignal;
}

export async function call(path: string, opts: CallOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (opts.auth) headers.authorization = `Bearer ${opts.auth}`;
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(gatewayUrl(path), {
    method: opts.method ?? (opts.body === undefined ? "GET" : "POST"),
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    signal: opts.signal,
  });
  if (!res.ok) throw await errorOf(res);
  return res;
}

export async function getJson<T>(path: string, opts: CallOptions = {}): Promise<T> {
  return (await call(path, opts)).json() as Promise<T>;
}

async function errorOf(res: Response): Promise<GatewayError> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as { error?: { code?: string; type?: string; message?: string } };
    const e = body.error ?? {};
    return new GatewayError(res.status, e.code ?? e.type ?? String(res.status), e.message ?? text);
  } catch {
    return new GatewayError(res.status, String(res.status), text || res.statusText);
  }
}

/** One entry of GET /v1/catalog: a module or a model from the registry, with live prices. */
export interface CatalogEntry {
  name: string;
  version: string;
  kind: "module" | "model";
  cid: string;
  description: string;
  creator: string;
  royaltyBps: number;
  license: string;
  executor?: "wasm" | "docker";
  inputs?: Record<string, InputSpec>;
  required?: string[];
  contextLength?: number;
  prices: { providers: number; min?: string; max?: string };
}

export interface InputSpec {
  type: string;
  description?: string;
  default?: string | number | boolean;
  enum?: (string | number)[];
  minimum?: number;
  maximum?: number;
}

/** A job as GET /v1/jobs and POST /v1/jobs show it. */
export interface JobView {
  id: string;
  module: string;
  stage: string;
  deal: string | null;
  result: string | null;
  error: string | null;
  created_at: number;
}

export const catalog = () => getJson<{ entries: CatalogEntry[] }>("v1/catalog").then((c) => c.entries);
