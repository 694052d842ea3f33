// The HTTP requests Lily's own clients make (the API client's calls to a solver, store or gateway,
// and the chain client's JSON-RPC), over node:http and node:https rather than Node's built-in
// `fetch`. That `fetch` is undici: loading it on the first request costs ~30-40 ms, and it left
// 5-10 MiB resident in every idle role and 40-260 ms of its start-up CPU (bench:idle before and
// after), all for a handful of small JSON requests. Only what those clients use is here: a method,
// headers, a string or byte body and an abort signal; the answer's status, headers and body, read
// as a stream (`body.getReader()`) or whole (`text`, `json`, `arrayBuffer`). Where node:http does
// not exist (the studio, in a browser) it is the platform's `fetch`.
import type { IncomingMessage } from "node:http";
import { concatBytes } from "viem";

type HttpModule = typeof import("node:http");
type GetBuiltin = (id: string) => unknown;

const getBuiltin = (globalThis as { process?: { getBuiltinModule?: GetBuiltin } }).process?.getBuiltinModule;

/** `fetch` for Lily's clients: node:http where there is one, else the platform's. */
export const nodeFetch: typeof fetch = getBuiltin ? (input, init) => overNodeHttp(getBuiltin, input, init) : (input, init) => globalThis.fetch(input, init);

function overNodeHttp(builtin: GetBuiltin, input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
  if (typeof input !== "string" && !(input instanceof URL)) return Promise.reject(new TypeError("nodeFetch takes a URL, not a Request"));
  const url = new URL(input);
  if (url.protocol !== "http:" && url.protocol !== "https:") return Promise.reject(new TypeError(`nodeFetch: unsupported protocol ${url.protocol}`));
  const mod = builtin(url.protocol === "https:" ? "node:https" : "node:http") as HttpModule;
  const signal = init.signal ?? undefined;
  if (signal?.aborted) return Promise.reject(signal.reason);
  let body: Uint8Array | undefined;
  try {
    body = bodyBytes(init.body);
  } catch (e) {
    return Promise.reject(e);
  }
  const headers = headerRecord(init.headers);
  if (body) headers["content-length"] = String(body.byteLength);
  return new Promise((resolve, reject) => {
    const req = mod.request(url, { method: init.method ?? "GET", headers, ...(signal && { signal }) }, (res) => resolve(toResponse(res, url, signal)));
    // As fetch does: an abort rejects with the signal's reason, anything else is a TypeError whose cause says what.
    const failed = (cause: unknown) => reject(signal?.aborted ? signal.reason : new TypeError("fetch failed", { cause }));
    req.on("error", failed);
    // A request closed with neither an answer nor an error still settles (a no-op once either came):
    // a caller's timeout only aborts, and viem's waits for the promise to settle.
    req.on("close", () => failed(new Error("connection closed before an answer")));
    req.end(body);
  });
}

function bodyBytes(body: RequestInit["body"]): Uint8Array | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === "string") return new TextEncoder().encode(body);
  if (body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  throw new TypeError("nodeFetch: a body must be a string or bytes");
}

function headerRecord(headers: RequestInit["headers"]): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  if (Array.isArray(headers)) for (const [k, v] of headers) out[k!.toLowerCase()] = v!;
  // A Headers object (duck-typed: naming the global `Headers` would load undici) or a plain record.
  else if (typeof (headers as Headers).forEach === "function") {
    (headers as Headers).forEach((v, k) => {
      out[k.toLowerCase()] = v;
    });
  } else for (const [k, v] of Object.entries(headers as Record<string, string>)) out[k.toLowerCase()] = v;
  return out;
}

/** The parts of a `Response` Lily's clients (and viem's HTTP transport) read. */
function toResponse(res: IncomingMessage, url: URL, signal: AbortSignal | undefined): Response {
  const status = res.statusCode ?? 0;
  const chunks = res[Symbol.asyncIterator]();
  const cancel = async () => {
    res.destroy();
  };
  const stopIfAborted = () => {
    if (!signal?.aborted) return;
    res.destroy();
    throw signal.reason;
  };
  const reader = {
    // As fetch's body does: once the signal fires, a read rejects with its reason, even when the
    // rest of the answer had already arrived (node:http gives a bare "aborted" Error, which viem
    // would report as a failed request instead of its timeout).
    async read(): Promise<ReadableStreamReadResult<Uint8Array>> {
      stopIfAborted();
      let next: IteratorResult<unknown>;
      try {
        next = await chunks.next();
      } catch (e) {
        throw signal?.aborted ? signal.reason : new TypeError("terminated", { cause: e });
      }
      stopIfAborted();
      return next.done ? { done: true, value: undefined } : { done: false, value: next.value as Uint8Array };
    },
    cancel,
    releaseLock() {},
  };
  const whole = async (): Promise<Uint8Array> => {
    const parts: Uint8Array[] = [];
    for (let r = await reader.read(); !r.done; r = await reader.read()) parts.push(r.value);
    return concatBytes(parts);
  };
  const text = async () => new TextDecoder().decode(await whole());
  const headers = {
    get(name: string): string | null {
      const v = res.headers[name.toLowerCase()];
      return v === undefined ? null : Array.isArray(v) ? v.join(", ") : String(v);
    },
    has: (name: string) => res.headers[name.toLowerCase()] !== undefined,
    forEach(f: (value: string, name: string) => void) {
      for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) f(Array.isArray(v) ? v.join(", ") : String(v), k);
    },
  };
  const response = {
    ok: status >= 200 && status < 300,
    status,
    statusText: res.statusMessage ?? "",
    url: url.href,
    redirected: false,
    headers,
    body: { getReader: () => reader, cancel },
    text,
    json: async () => JSON.parse(await text()),
    arrayBuffer: async () => {
      const bytes = await whole();
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    },
    bytes: whole,
  };
  return response as unknown as Response;
}

/**
 * A response's body, refused with `tooLarge(size)` once it passes `limit` bytes (at once when its
 * Content-Length already says so), without reading further: the API client's and the chain
 * transport's answers alike.
 */
export async function readBodyLimited(res: Response, limit: number, tooLarge: (size: number) => Error): Promise<Uint8Array> {
  const declared = Number(res.headers.get("content-length"));
  if (declared > limit) {
    void res.body?.cancel().catch(() => {});
    throw tooLarge(declared);
  }
  if (!res.body) return new Uint8Array(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    size += r.value.byteLength;
    if (size > limit) {
      void reader.cancel().catch(() => {});
      throw tooLarge(size);
    }
    chunks.push(r.value);
  }
  return concatBytes(chunks);
}
