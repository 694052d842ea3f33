// Live events over WebSocket (`/v1/events`). A subscriber names what it watches in the query
// string (provider, jobCreator, jobOffer, deal); the server pushes every matching record change.
// Events are hints that something changed: a subscriber that reconnects re-reads the records, so
// a missed event loses nothing. That is also why the hub may drop a subscriber that falls behind.
//
// Limits: subscribers send nothing but control frames, so the hub refuses any frame over
// MAX_SUBSCRIBER_FRAME_BYTES on its header (close 1009) before buffering it; a subscription is its
// four known parameters, each an address or a 32-byte hex, or a 400; a subscriber whose unsent
// backlog passes MAX_BACKLOG_BYTES is dropped. `subscribe` refuses events over MAX_EVENT_BYTES.
import type http from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, WebSocket } from "ws";
import * as z from "zod";
import { DealRecord, JobOfferRecord, LilyError, address, hex32, toWire, parse } from "@lily/protocol";
import { httpStatusFor } from "./httpStatus.ts";
import { parseTarget } from "./requestTarget.ts";

export const EVENTS_PATH = "/v1/events";

/** The largest frame the hub accepts from a subscriber (a ping carries at most 125 bytes). */
export const MAX_SUBSCRIBER_FRAME_BYTES = 1024;
/** Unsent events a subscriber may have queued before the hub drops it. */
export const MAX_BACKLOG_BYTES = 1024 * 1024;
/** The largest event `subscribe` accepts: one deal or job-offer record. */
export const MAX_EVENT_BYTES = 1024 * 1024;

export const LilyEvent = z.discriminatedUnion("type", [
  z.object({ type: z.literal("deal"), record: DealRecord }),
  z.object({ type: z.literal("job-offer"), record: JobOfferRecord }),
]);
export type LilyEvent = z.infer<typeof LilyEvent>;

/** What a subscriber watches: these parameters and no others. */
export const Subscription = z.strictObject({
  provider: address.optional(),
  jobCreator: address.optional(),
  jobOffer: hex32.optional(),
  deal: hex32.optional(),
});
export type Subscription = z.input<typeof Subscription>;

function matches(sub: z.output<typeof Subscription>, ev: LilyEvent): boolean {
  const eq = (a: string | undefined, b: string) => a !== undefined && a.toLowerCase() === b.toLowerCase();
  if (ev.type === "deal") {
    const r = ev.record;
    return eq(sub.deal, r.id) || eq(sub.provider, r.deal.provider) || eq(sub.jobCreator, r.deal.jobCreator) || eq(sub.jobOffer, r.jobOfferId);
  }
  const r = ev.record;
  return eq(sub.jobOffer, r.id) || eq(sub.jobCreator, r.offer.jobCreator);
}

/** Answer a refused upgrade with its LilyError as JSON, then hang up. */
function refuseUpgrade(socket: Duplex, err: LilyError): void {
  const body = JSON.stringify({ error: err.toJSON() });
  const status = httpStatusFor(err.code);
  socket.on("error", () => {});
  socket.once("finish", () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${status === 404 ? "Not Found" : "Bad Request"}\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/** Attach the event hub to an HTTP server; returns `publish`. */
export function attachEventHub(server: http.Server): { publish(ev: LilyEvent): void; close(): void } {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_SUBSCRIBER_FRAME_BYTES });
  const subs = new Map<WebSocket, z.output<typeof Subscription>>();
  server.on("upgrade", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    let sub: z.output<typeof Subscription>;
    try {
      const target = parseTarget(req.url);
      if (target.pathname !== EVENTS_PATH) throw new LilyError({ code: "NOT_FOUND", field: "path", message: `no WebSocket endpoint at ${target.pathname}` });
      sub = parse(Subscription, target.query, "query");
    } catch (e) {
      // Whatever was thrown, answer it: a throw from this listener would take the process down.
      refuseUpgrade(socket, e instanceof LilyError ? e : new LilyError({ code: "INVALID_INPUT", field: "query", message: String(e) }));
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      subs.set(ws, sub);
      // A frame over the cap or a malformed one: ws has already closed this socket (1009, 1002).
      // Without a listener its 'error' would be thrown and take the whole process down.
      ws.on("error", () => {});
      ws.on("close", () => subs.delete(ws));
    });
  });
  return {
    publish(ev) {
      const data = JSON.stringify(toWire(ev));
      for (const [ws, sub] of subs) {
        if (ws.readyState !== WebSocket.OPEN || !matches(sub, ev)) continue;
        // A subscriber this far behind is not reading; it re-reads the records when it reconnects.
        if (ws.bufferedAmount > MAX_BACKLOG_BYTES) ws.terminate();
        else ws.send(data);
      }
    },
    close() {
      for (const ws of subs.keys()) ws.terminate();
      wss.close();
    },
  };
}

/**
 * Subscribe to events, reconnecting with backoff until `close()` is called. `onOpen` runs after
 * every (re)connection so the caller can re-read state it may have missed; `onClose` after every
 * drop or failed attempt (not after `close()`), so a caller knows while events cannot reach it. A
 * malformed subscription throws INVALID_INPUT (field `subscription.<name>`) before any connection.
 */
export function subscribe(
  baseUrl: string,
  sub: Subscription,
  onEvent: (ev: LilyEvent) => void,
  opts: { onOpen?: () => void; onClose?: () => void; onError?: (e: unknown) => void } = {},
): { close(): void } {
  return connectEvents(
    baseUrl,
    sub,
    (data) => {
      try {
        onEvent(parse(LilyEvent, JSON.parse(String(data)), "event"));
      } catch (e) {
        opts.onError?.(e);
      }
    },
    opts,
  );
}

/**
 * What changed, read from an event without validating it: which record and the status it reached.
 * Only a hint for deciding whether to re-read: it is whatever the solver sent, so a reader acts on
 * the records it then reads through the validated API, never on the hint itself.
 */
export interface ChangeHint {
  type: LilyEvent["type"];
  id: string;
  status: string;
  /** A deal event's record carries the provider's signature. */
  providerSigned?: boolean;
  /** A deal event's record carries the job creator's signature. */
  jobCreatorSigned?: boolean;
}

/**
 * Be told that something matching `sub` changed, without the event itself: for a reader that
 * re-reads the records through the validated API anyway (a provider's pass, a job creator's wait
 * loop). Validating every event only to drop it cost a provider ~5 ms of CPU per job. `onChange`
 * gets the event's hint, or undefined when the event does not read as one.
 */
export function watchChanges(
  baseUrl: string,
  sub: Subscription,
  onChange: (hint: ChangeHint | undefined) => void,
  opts: { onOpen?: () => void; onClose?: () => void; onError?: (e: unknown) => void } = {},
): { close(): void } {
  return connectEvents(baseUrl, sub, (data) => onChange(hintOf(data)), opts);
}

function hintOf(data: WebSocket.RawData): ChangeHint | undefined {
  try {
    const ev = JSON.parse(String(data)) as {
      type?: unknown;
      record?: { id?: unknown; status?: unknown; providerSignature?: unknown; jobCreatorSignature?: unknown };
    };
    const { type, record } = ev;
    if (typeof record?.id !== "string" || typeof record.status !== "string") return undefined;
    if (type === "job-offer") return { type, id: record.id, status: record.status };
    if (type === "deal") {
      const signed = { providerSigned: record.providerSignature !== undefined, jobCreatorSigned: record.jobCreatorSignature !== undefined };
      return { type, id: record.id, status: record.status, ...signed };
    }
  } catch {
    // Not JSON: no hint, and the reader treats it as news.
  }
  return undefined;
}

function connectEvents(
  baseUrl: string,
  sub: Subscription,
  onMessage: (data: WebSocket.RawData) => void,
  opts: { onOpen?: () => void; onClose?: () => void; onError?: (e: unknown) => void },
): { close(): void } {
  parse(Subscription, sub, "subscription");
  let closed = false;
  let ws: WebSocket | undefined;
  let delay = 100;
  const url = new URL(EVENTS_PATH, baseUrl.replace(/^http/, "ws"));
  for (const [k, v] of Object.entries(sub)) if (v) url.searchParams.set(k, v);
  const connect = () => {
    if (closed) return;
    ws = new WebSocket(url, { maxPayload: MAX_EVENT_BYTES, handshakeTimeout: 10_000 });
    ws.on("open", () => {
      delay = 100;
      opts.onOpen?.();
    });
    ws.on("message", onMessage);
    ws.on("error", (e) => opts.onError?.(e));
    ws.on("close", () => {
      if (closed) return;
      opts.onClose?.();
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 2000);
    });
  };
  connect();
  return {
    close() {
      closed = true;
      ws?.terminate();
    },
  };
}
