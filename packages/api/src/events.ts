// Live events over WebSocket (`/v1/events`). A subscriber names what it watches in the query
// string (provider, jobCreator, jobOffer, deal); the server pushes every matching record change.
// Events are hints that something changed: a subscriber that reconnects re-reads the records, so
// a missed event loses nothing.
import type http from "node:http";
import { WebSocketServer, WebSocket } from "ws";
import { z } from "zod";
import { DealRecord, JobOfferRecord, toWire, parse } from "@lily/protocol";

export const EVENTS_PATH = "/v1/events";

export const LilyEvent = z.discriminatedUnion("type", [
  z.object({ type: z.literal("deal"), record: DealRecord }),
  z.object({ type: z.literal("job-offer"), record: JobOfferRecord }),
]);
export type LilyEvent = z.infer<typeof LilyEvent>;

export interface Subscription {
  provider?: string;
  jobCreator?: string;
  jobOffer?: string;
  deal?: string;
}

function matches(sub: Subscription, ev: LilyEvent): boolean {
  const eq = (a: string | undefined, b: string) => a !== undefined && a.toLowerCase() === b.toLowerCase();
  if (ev.type === "deal") {
    const r = ev.record;
    return eq(sub.deal, r.id) || eq(sub.provider, r.deal.provider) || eq(sub.jobCreator, r.deal.jobCreator) || eq(sub.jobOffer, r.jobOfferId);
  }
  const r = ev.record;
  return eq(sub.jobOffer, r.id) || eq(sub.jobCreator, r.offer.jobCreator);
}

/** Attach the event hub to an HTTP server; returns `publish`. */
export function attachEventHub(server: http.Server): { publish(ev: LilyEvent): void; close(): void } {
  const wss = new WebSocketServer({ noServer: true });
  const subs = new Map<WebSocket, Subscription>();
  server.on("upgrade", (req, socket, head) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname !== EVENTS_PATH) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      subs.set(ws, Object.fromEntries(url.searchParams) as Subscription);
      ws.on("close", () => subs.delete(ws));
    });
  });
  return {
    publish(ev) {
      const data = JSON.stringify(toWire(ev));
      for (const [ws, sub] of subs) if (ws.readyState === WebSocket.OPEN && matches(sub, ev)) ws.send(data);
    },
    close() {
      for (const ws of subs.keys()) ws.terminate();
      wss.close();
    },
  };
}

/**
 * Subscribe to events, reconnecting with backoff until `close()` is called. `onOpen` runs after
 * every (re)connection so the caller can re-read state it may have missed.
 */
export function subscribe(
  baseUrl: string,
  sub: Subscription,
  onEvent: (ev: LilyEvent) => void,
  opts: { onOpen?: () => void; onError?: (e: unknown) => void } = {},
): { close(): void } {
  let closed = false;
  let ws: WebSocket | undefined;
  let delay = 100;
  const url = new URL(EVENTS_PATH, baseUrl.replace(/^http/, "ws"));
  for (const [k, v] of Object.entries(sub)) if (v) url.searchParams.set(k, v);
  const connect = () => {
    if (closed) return;
    ws = new WebSocket(url);
    ws.on("open", () => {
      delay = 100;
      opts.onOpen?.();
    });
    ws.on("message", (data) => {
      try {
        onEvent(parse(LilyEvent, JSON.parse(String(data)), "event"));
      } catch (e) {
        opts.onError?.(e);
      }
    });
    ws.on("error", (e) => opts.onError?.(e));
    ws.on("close", () => {
      if (closed) return;
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
