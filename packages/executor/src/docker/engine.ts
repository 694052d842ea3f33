// A small client for the Docker Engine API (HTTP on the daemon's socket), in the manner of viem's
// transports: one `request` that sends a call and returns its JSON or its stream, and errors
// that carry the engine's own message. Pinned to API 1.41 (Docker 20.10, Debian bookworm's
// docker.io), which every later engine still serves.
import type { IncomingMessage } from "node:http";
import type { Readable } from "node:stream";
import { LilyError } from "@lily/protocol";
import { nodeHttp } from "@lily/api";
import type { DockerEndpoint } from "./daemon.ts";

export const ENGINE_API_VERSION = "v1.41";

export interface EngineRequest {
  method?: "GET" | "POST" | "PUT" | "DELETE" | "HEAD";
  /** The path after the version, e.g. `/containers/create`. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  /** A JSON body, or a stream / bytes sent as-is (with `contentType`). */
  json?: unknown;
  body?: Readable | Uint8Array;
  contentType?: string;
  timeoutMs?: number;
}

export class DockerEngine {
  readonly endpoint: DockerEndpoint;

  constructor(endpoint: DockerEndpoint) {
    this.endpoint = endpoint;
  }

  /** Send a call and return its parsed JSON body (undefined when empty). Non-2xx throws EngineError. */
  async json<T = unknown>(req: EngineRequest): Promise<T> {
    const res = await this.stream(req);
    const text = await readAll(res);
    return (text.length ? JSON.parse(text.toString("utf8")) : undefined) as T;
  }

  /** Send a call and return the response stream once its status is 2xx. Non-2xx throws EngineError. */
  stream(req: EngineRequest): Promise<IncomingMessage> {
    const search = new URLSearchParams();
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) search.set(k, String(v));
    const qs = search.size ? `?${search}` : "";
    const headers: Record<string, string> = {};
    let payload: Uint8Array | Readable | undefined = req.body;
    if (req.json !== undefined) {
      payload = Buffer.from(JSON.stringify(req.json));
      headers["content-type"] = "application/json";
    } else if (req.contentType) headers["content-type"] = req.contentType;
    const { socketPath, host, port } = this.endpoint;
    return new Promise((resolve, reject) => {
      const r = nodeHttp.request(
        { socketPath, host, port, method: req.method ?? "GET", path: `/${ENGINE_API_VERSION}${req.path}${qs}`, headers },
        async (res) => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) return resolve(res);
          const text = (await readAll(res)).toString("utf8");
          let message = text.trim();
          try {
            message = (JSON.parse(text) as { message?: string }).message ?? message;
          } catch {}
          reject(new EngineError(status, `${req.method ?? "GET"} ${req.path}`, message));
        },
      );
      r.on("error", (e) =>
        reject(new LilyError({ code: "UNREACHABLE", field: "docker", message: `the Docker engine at ${this.endpoint.url} did not answer: ${e.message}` })),
      );
      if (req.timeoutMs) r.setTimeout(req.timeoutMs, () => r.destroy(new Error(`no answer within ${req.timeoutMs} ms`)));
      if (payload === undefined) r.end();
      else if (payload instanceof Uint8Array) r.end(payload);
      else payload.pipe(r);
    });
  }
}

/** The engine refused a call: its HTTP status and its own message. */
export class EngineError extends Error {
  readonly status: number;
  readonly call: string;

  constructor(status: number, call: string, message: string) {
    super(`Docker engine: ${call} → ${status}: ${message}`);
    this.status = status;
    this.call = call;
  }
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** One message of the engine's progress stream (image load, import, pull: JSON objects, one a line). */
export interface EngineMessage {
  stream?: string;
  status?: string;
  error?: string;
}

/** Every message of a progress stream; a line that is not JSON becomes an error message naming it. */
export async function readEngineMessages(res: Readable): Promise<EngineMessage[]> {
  const text = (await readAll(res)).toString("utf8");
  return text
    .split(/\r?\n/)
    .filter((l) => l.trim())
    .map((l) => {
      try {
        return JSON.parse(l) as EngineMessage;
      } catch {
        return { error: `unreadable engine message: ${l.slice(0, 200)}` };
      }
    });
}
