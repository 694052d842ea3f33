// Server-sent events (text/event-stream), both ways: writing events as they happen and reading
// them back from a fetch body. Used by the provider's `infer` stream, the gateway's OpenAI streams
// (data-only events ending `data: [DONE]`) and its job event feeds.
import type http from "node:http";
import { LilyError } from "@lily/protocol";

export interface SseEvent {
  /** The `event:` field; absent for data-only streams such as OpenAI's. */
  event?: string;
  data: string;
}

/** Start an event stream on a response: headers sent at once so the client sees the stream open. */
export function openSse(res: http.ServerResponse, headers: Record<string, string> = {}): void {
  // Set one by one (not passed to writeHead) so error handlers can still read the content type.
  const all = {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    connection: "keep-alive",
    "x-accel-buffering": "no",
    ...headers,
  };
  for (const [k, v] of Object.entries(all)) res.setHeader(k, v);
  res.writeHead(200);
  res.flushHeaders();
}

/** Write one event; returns false when the socket's buffer is full (the caller may wait for "drain"). */
export function writeSse(res: http.ServerResponse, ev: SseEvent): boolean {
  let out = ev.event ? `event: ${ev.event}\n` : "";
  for (const line of ev.data.split("\n")) out += `data: ${line}\n`;
  return res.write(`${out}\n`);
}

export interface ReadSseOptions {
  /**
   * Refuse an event whose text passes this many characters before it ends (INVALID_INPUT, field
   * `event`): a server that never ends one would otherwise grow the buffer without bound.
   */
  maxEventLength?: number;
}

/** A body with only `getReader` (nodeFetch's), besides the async-iterable ones. */
type ReadableBody = AsyncIterable<Uint8Array> | ReadableStream<Uint8Array> | { getReader(): ReadableStreamDefaultReader<Uint8Array> };

/** Read events from a byte stream (e.g. `(await fetch(...)).body`), as they arrive. */
export async function* readSse(body: ReadableBody, opts: ReadSseOptions = {}): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of chunksOf(body)) {
    buffer += decoder.decode(chunk, { stream: true });
    let end = buffer.search(/\r?\n\r?\n/);
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + (buffer[end] === "\r" ? 4 : 2));
      const ev = parseBlock(block);
      if (ev) yield ev;
      end = buffer.search(/\r?\n\r?\n/);
    }
    if (opts.maxEventLength !== undefined && buffer.length > opts.maxEventLength)
      throw new LilyError({ code: "INVALID_INPUT", field: "event", message: `an event over ${opts.maxEventLength} characters` });
  }
  const last = parseBlock(buffer);
  if (last) yield last;
}

async function* chunksOf(body: ReadableBody): AsyncGenerator<Uint8Array> {
  // Node's web ReadableStream is async-iterable; the DOM typings do not say so.
  if (Symbol.asyncIterator in body) {
    yield* body as AsyncIterable<Uint8Array>;
    return;
  }
  const reader = body.getReader();
  let done = false;
  try {
    for (let r = await reader.read(); !r.done; r = await reader.read()) yield r.value;
    done = true;
  } finally {
    // A reader that stops early (a refused event, a break) lets the connection go.
    if (!done) await reader.cancel().catch(() => {});
  }
}

function parseBlock(block: string): SseEvent | undefined {
  let event: string | undefined;
  const data: string[] = [];
  for (const line of block.split(/\r?\n/)) {
    if (line === "" || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  if (data.length === 0 && event === undefined) return undefined;
  return { event, data: data.join("\n") };
}
