// Request bodies, read no further than the route allows. A Content-Length over the limit is refused
// before a byte of the body is read (and a client that asked to "100-continue" is never told to
// send it); a streamed body is read only until it passes the limit. Either way the refusal is 413
// and the server then closes the connection rather than drain the rest.
import type http from "node:http";
import { LilyError } from "@lily/protocol";
import { HttpRefusal } from "./httpStatus.ts";
import type { RouteDef } from "./route.ts";

export interface BodyLimits {
  /** For JSON routes that declare no `maxBodyBytes`: a signed offer is a few KB. */
  json: number;
  /** For "bytes" routes that declare no `maxBodyBytes` (uploads to the store). */
  bytes: number;
}

export const DEFAULT_BODY_LIMITS: BodyLimits = { json: 256 * 1024, bytes: 64 * 1024 * 1024 };

/** The route's own limit, else the server's for its kind of body; 0 for a route that takes none. */
export function bodyLimitOf(route: RouteDef, limits: BodyLimits): number {
  if (route.maxBodyBytes !== undefined) return route.maxBodyBytes;
  if (route.body === undefined) return 0;
  return route.body === "bytes" ? limits.bytes : limits.json;
}

/** Whether the request's headers announce a body (chunked, or a non-zero Content-Length). */
export function announcesBody(req: http.IncomingMessage): boolean {
  return req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"] ?? 0) > 0;
}

function tooLarge(limit: number): HttpRefusal {
  const message = limit === 0 ? "body: this route takes no body" : `body: larger than this route's limit of ${limit} bytes`;
  return new HttpRefusal(413, { code: "INVALID_INPUT", field: "body", message, details: { limitBytes: limit } });
}

/** The whole body, at most `limit` bytes; HttpRefusal 413 beyond. */
export function readBody(req: http.IncomingMessage, res: http.ServerResponse, limit: number): Promise<Buffer> {
  if (!announcesBody(req)) return Promise.resolve(Buffer.alloc(0));
  if (Number(req.headers["content-length"]) > limit) return Promise.reject(tooLarge(limit));
  if (req.headers.expect?.toLowerCase() === "100-continue") res.writeContinue();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      req.off("data", onData).off("end", onEnd).off("error", onGone).off("close", onGone);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      // Stop here: nothing more is read, and the 413 goes out with `connection: close`.
      stop();
      req.pause();
      reject(tooLarge(limit));
    };
    const onEnd = () => {
      stop();
      resolve(Buffer.concat(chunks, size));
    };
    const onGone = (cause?: unknown) => {
      stop();
      reject(new LilyError({ code: "INVALID_INPUT", field: "body", message: "body: the client hung up before sending all of it", cause }));
    };
    req.on("data", onData).once("end", onEnd).once("error", onGone).once("close", onGone);
  });
}
