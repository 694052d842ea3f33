// Plain HTTP requests for the api tests, sent byte for byte as written: a hostile or broken client
// sends paths, methods, headers and bodies that the typed client never would.
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Socket } from "node:net";

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The JSON body when the response is JSON, otherwise the text. */
  // biome-ignore lint/suspicious/noExplicitAny: whatever the server sent back; each test asserts its shape
  body: any;
}

/**
 * One request; `path` goes on the request line unchanged (no normalisation, no re-encoding). A body
 * is sent with its Content-Length, whatever the method.
 */
export function rawRequest(
  base: string,
  method: string,
  path: string,
  opts: { headers?: http.OutgoingHttpHeaders; body?: string | Uint8Array } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const length = opts.body === undefined ? {} : { "content-length": Buffer.byteLength(opts.body) };
    const req = http.request(base, { method, path, headers: { ...length, ...opts.headers }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        const json = String(res.headers["content-type"]).startsWith("application/json");
        resolve({ status: res.statusCode!, headers: res.headers, body: json ? JSON.parse(text) : text });
      });
    });
    req.on("error", reject);
    req.end(opts.body);
  });
}

export interface StreamedUpload extends RawResponse {
  /** Bytes the client managed to hand to its socket before the server answered. */
  written: number;
  /** Whether the client got to send its whole body. */
  sentAll: boolean;
}

/**
 * Streams `total` bytes of `chunk` repeated, chunked (no Content-Length), as fast as the server
 * takes them, and stops writing as soon as the server answers.
 */
export function streamUpload(base: string, method: string, path: string, chunk: Uint8Array, total: number): Promise<StreamedUpload> {
  return new Promise((resolve, reject) => {
    let written = 0;
    let answered = false;
    const req = http.request(base, { method, path, agent: false, headers: { "content-type": "application/json" } }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({
          status: res.statusCode!,
          headers: res.headers,
          body: JSON.parse(Buffer.concat(chunks).toString("utf8")),
          written,
          sentAll: written >= total,
        }),
      );
    });
    // Once the server has answered and hung up, writing the rest fails (EPIPE / ECONNRESET): expected.
    req.on("error", (e) => {
      if (!answered) reject(e);
    });
    const pump = () => {
      while (!answered && written < total) {
        written += chunk.length;
        if (!req.write(chunk)) return void req.once("drain", pump);
      }
      if (!answered) req.end();
    };
    pump();
  });
}

/** Every socket the server accepts, so a test can ask how much of a request the server read. */
export function acceptedSockets(server: http.Server): Socket[] {
  const sockets: Socket[] = [];
  server.on("connection", (s: Socket) => sockets.push(s));
  return sockets;
}

export function urlOf(server: http.Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
