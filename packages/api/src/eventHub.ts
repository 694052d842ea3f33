// The server side of live events (`/v1/events`, see events.ts): one hub, two ways to subscribe.
// A plain GET gets a server-sent event stream (what Lily's own clients use); a WebSocket upgrade
// gets each event as a message (for browsers and other tools). Both are hints that something
// changed, so the hub may drop a subscriber that falls behind: it re-reads when it reconnects.
//
// Limits: a subscription is its four known parameters, each an address or a 32-byte hex, or a 400;
// a subscriber whose unsent backlog passes MAX_BACKLOG_BYTES is dropped. WebSocket subscribers
// send nothing but control frames, so the hub refuses any frame over MAX_SUBSCRIBER_FRAME_BYTES on
// its header (close 1009) before buffering it.
import type http from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, WebSocket } from "ws";
import type * as z from "zod";
import { LilyError, parse, wireJson } from "@lily/protocol";
import { httpStatusFor } from "./httpStatus.ts";
import { parseTarget } from "./requestTarget.ts";
import { EVENTS_PATH, Subscription, type LilyEvent } from "./events.ts";
import { openSse } from "./sse.ts";

/** The largest frame the hub accepts from a WebSocket subscriber (a ping carries at most 125 bytes). */
export const MAX_SUBSCRIBER_FRAME_BYTES = 1024;
/** Unsent events a subscriber may have queued before the hub drops it. */
export const MAX_BACKLOG_BYTES = 1024 * 1024;

type Sub = z.output<typeof Subscription>;

/** One subscriber, however it subscribed. */
interface Subscriber {
  /** Sends one event's JSON, or drops the subscriber when it is too far behind to take it. */
  send(data: string): void;
  drop(): void;
}

function matches(sub: Sub, ev: LilyEvent): boolean {
  const eq = (a: string | undefined, b: string) => a !== undefined && a.toLowerCase() === b.toLowerCase();
  if (ev.type === "deal") {
    const r = ev.record;
    return eq(sub.deal, r.id) || eq(sub.provider, r.deal.provider) || eq(sub.jobCreator, r.deal.jobCreator) || eq(sub.jobOffer, r.jobOfferId);
  }
  const r = ev.record;
  return eq(sub.jobOffer, r.id) || eq(sub.jobCreator, r.offer.jobCreator);
}

/** The subscription a request names, or the LilyError to refuse it with. */
function subscriptionOf(url: string | undefined): Sub | LilyError {
  try {
    const target = parseTarget(url);
    if (target.pathname !== EVENTS_PATH) return new LilyError({ code: "NOT_FOUND", field: "path", message: `no event stream at ${target.pathname}` });
    return parse(Subscription, target.query, "query");
  } catch (e) {
    // Whatever was thrown, answer it: a throw from a listener would take the process down.
    return e instanceof LilyError ? e : new LilyError({ code: "INVALID_INPUT", field: "query", message: String(e) });
  }
}

/** Whether `url` is the event path (with any query), read without parsing the rest. */
function isEventsPath(url: string | undefined): boolean {
  if (!url?.startsWith(EVENTS_PATH)) return false;
  const next = url[EVENTS_PATH.length];
  return next === undefined || next === "?";
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

/**
 * Attach the event hub to an HTTP server; returns `publish`. The hub answers `GET /v1/events`
 * before the server's own request listeners, which see every other request as before.
 */
export function attachEventHub(server: http.Server): { publish(ev: LilyEvent): void; close(): void } {
  const subs = new Map<Subscriber, Sub>();

  // Server-sent events: the request listeners the server already has (its routes) are moved
  // behind the hub's, since node:http cannot stop a request from reaching every listener.
  const routes = server.listeners("request") as ((req: http.IncomingMessage, res: http.ServerResponse) => void)[];
  server.removeAllListeners("request");
  server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (req.method !== "GET" || !isEventsPath(req.url)) {
      for (const route of routes) route.call(server, req, res);
      return;
    }
    const sub = subscriptionOf(req.url);
    if (sub instanceof LilyError) {
      res.writeHead(httpStatusFor(sub.code), { "content-type": "application/json" }).end(JSON.stringify({ error: sub.toJSON() }));
      return;
    }
    openSse(res);
    const subscriber: Subscriber = {
      send(data) {
        // A subscriber this far behind is not reading; it re-reads the records when it reconnects.
        if (res.writableLength > MAX_BACKLOG_BYTES) res.destroy();
        else res.write(`data: ${data}\n\n`);
      },
      drop: () => res.destroy(),
    };
    subs.set(subscriber, sub);
    res.on("close", () => subs.delete(subscriber));
  });

  // WebSocket.
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_SUBSCRIBER_FRAME_BYTES });
  server.on("upgrade", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const sub = subscriptionOf(req.url);
    if (sub instanceof LilyError) {
      refuseUpgrade(socket, sub);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const subscriber: Subscriber = {
        send(data) {
          if (ws.readyState !== WebSocket.OPEN) return;
          if (ws.bufferedAmount > MAX_BACKLOG_BYTES) ws.terminate();
          else ws.send(data);
        },
        drop: () => ws.terminate(),
      };
      subs.set(subscriber, sub);
      // A frame over the cap or a malformed one: ws has already closed this socket (1009, 1002).
      // Without a listener its 'error' would be thrown and take the whole process down.
      ws.on("error", () => {});
      ws.on("close", () => subs.delete(subscriber));
    });
  });

  return {
    publish(ev) {
      const data = wireJson(ev);
      for (const [subscriber, sub] of subs) if (matches(sub, ev)) subscriber.send(data);
    },
    close() {
      for (const subscriber of subs.keys()) subscriber.drop();
      subs.clear();
      wss.close();
    },
  };
}
