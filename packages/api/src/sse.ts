// Server-sent events (text/event-stream), both ways: writing events as they happen and reading
// them back from a fetch body. Used by the provider's `infer` stream, the gateway's OpenAI streams
// (data-only events ending `data: [DONE]`) and its job event feeds.
import type http from "node:http";

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

/** Read events from a byte stream (e.g. `(await fetch(...)).body`), as they arrive. */
export async function* readSse(body: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = "";
  // Node's web ReadableStream is async-iterable; the DOM typings do not say so.
  for await (const chunk of body as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end = buffer.search(/\r?\n\r?\n/);
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + (buffer[end] === "\r" ? 4 : 2));
      const ev = parseBlock(block);
      if (ev) yield ev;
      end = buffer.search(/\r?\n\r?\n/);
    }
  }
  const last = parseBlock(buffer);
  if (last) yield last;
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
