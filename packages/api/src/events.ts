// Live events (`/v1/events`): what a subscriber names and receives, and the client side. A
// subscriber names what it watches in the query string (provider, jobCreator, jobOffer, deal); the
// server pushes every matching record change (eventHub.ts), as server-sent events to a plain GET
// or as WebSocket messages after an upgrade. Events are hints that something changed: a
// subscriber that reconnects re-reads the records, so a missed event loses nothing.
//
// Lily's own clients read the server-sent stream over node:http (nodeFetch): a `lily run`
// process then never loads a WebSocket library (~10 ms of its start-up) nor makes a handshake.
import * as z from "zod";
import { DealRecord, JobOfferRecord, LilyError, address, hex32, nodeFetch, parse, readBodyLimited } from "@lily/protocol";
import { readSse } from "./sse.ts";

export const EVENTS_PATH = "/v1/events";

/** The largest event `subscribe` accepts: one deal or job-offer record. */
export const MAX_EVENT_BYTES = 1024 * 1024;
/** The most of a refused subscription's answer a subscriber reads, for its error message. */
const MAX_REFUSAL_BYTES = 4096;
/** How long a subscriber waits for the server to answer its request before trying again. */
export const EVENTS_CONNECT_TIMEOUT_MS = 10_000;

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

export interface SubscribeOptions {
  onOpen?: () => void;
  onClose?: () => void;
  onError?: (e: unknown) => void;
}

/**
 * Subscribe to events, reconnecting with backoff until `close()` is called. `onOpen` runs after
 * every (re)connection so the caller can re-read state it may have missed; `onClose` after every
 * drop or failed attempt (not after `close()`), so a caller knows while events cannot reach it. A
 * malformed subscription throws INVALID_INPUT (field `subscription.<name>`) before any connection.
 */
export function subscribe(baseUrl: string, sub: Subscription, onEvent: (ev: LilyEvent) => void, opts: SubscribeOptions = {}): { close(): void } {
  return connectEvents(
    baseUrl,
    sub,
    (data) => {
      try {
        onEvent(parse(LilyEvent, JSON.parse(data), "event"));
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
  /** A deal event's record carries its provider's signed Result. */
  resulted?: boolean;
}

/**
 * Be told that something matching `sub` changed, without validating the event: for a reader that
 * reads the records it acts on itself (a provider's pass, a job creator's wait loop, which keeps
 * the records it uses and validates those: sdk/pushedRecords.ts). Validating every event only to
 * drop it cost a provider ~5 ms of CPU per job. `onChange` gets the event's hint, or undefined when
 * the event does not read as one, and the event as JSON parsed it (undefined when it is not JSON).
 */
export function watchChanges(
  baseUrl: string,
  sub: Subscription,
  onChange: (hint: ChangeHint | undefined, event?: unknown) => void,
  opts: SubscribeOptions = {},
): { close(): void } {
  return connectEvents(
    baseUrl,
    sub,
    (data) => {
      const event = jsonOrUndefined(data);
      onChange(hintOf(event), event);
    },
    opts,
  );
}

function jsonOrUndefined(data: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    return undefined; // not JSON: no hint, and the reader treats it as news
  }
}

/**
 * The record an event carries, read without validating it: its kind, its id and the record as the
 * stream parsed it; undefined for anything that is not a deal or job-offer event with an id. For
 * readers that keep an event's record and validate it when they use it (a change hint, the records
 * a job creator or a provider reads from their events).
 */
export function eventRecord(event: unknown): { type: LilyEvent["type"]; id: string; record: Record<string, unknown> } | undefined {
  const ev = event as { type?: unknown; record?: Record<string, unknown> } | null | undefined;
  if ((ev?.type !== "deal" && ev?.type !== "job-offer") || typeof ev.record?.id !== "string") return undefined;
  return { type: ev.type, id: ev.record.id, record: ev.record };
}

function hintOf(event: unknown): ChangeHint | undefined {
  const ev = eventRecord(event);
  if (!ev || typeof ev.record.status !== "string") return undefined;
  const { type, id, record } = ev;
  if (type === "job-offer") return { type, id, status: record.status as string };
  const signed = {
    providerSigned: record.providerSignature !== undefined,
    jobCreatorSigned: record.jobCreatorSignature !== undefined,
    resulted: record.result !== undefined,
  };
  return { type, id, status: record.status as string, ...signed };
}

function connectEvents(baseUrl: string, sub: Subscription, onMessage: (data: string) => void, opts: SubscribeOptions): { close(): void } {
  parse(Subscription, sub, "subscription");
  let closed = false;
  let current: AbortController | undefined;
  let delay = 100;
  const url = new URL(EVENTS_PATH, baseUrl);
  for (const [k, v] of Object.entries(sub)) if (v) url.searchParams.set(k, v);
  const connect = async () => {
    if (closed) return;
    const stop = new AbortController();
    current = stop;
    const answered = setTimeout(
      () => stop.abort(new LilyError({ code: "UNREACHABLE", message: `${url.origin} did not answer the event subscription` })),
      EVENTS_CONNECT_TIMEOUT_MS,
    );
    try {
      const res = await nodeFetch(url, { headers: { accept: "text/event-stream" }, signal: stop.signal });
      clearTimeout(answered);
      if (res.status !== 200) {
        // A little of the refusal, for the message; never all of it (a server may send without end).
        const body = await readBodyLimited(res, MAX_REFUSAL_BYTES, () => new Error("refusal too long")).then(
          (bytes) => new TextDecoder().decode(bytes),
          () => "",
        );
        throw new LilyError({ code: "UNREACHABLE", message: `event subscription refused: HTTP ${res.status} ${body.slice(0, 200)}` });
      }
      delay = 100;
      opts.onOpen?.();
      for await (const ev of readSse(res.body!, { maxEventLength: MAX_EVENT_BYTES })) if (ev.data) onMessage(ev.data);
    } catch (e) {
      if (!closed) opts.onError?.(e);
    } finally {
      clearTimeout(answered);
      stop.abort();
    }
    if (closed) return;
    opts.onClose?.();
    setTimeout(connect, delay);
    delay = Math.min(delay * 2, 2000);
  };
  void connect();
  return {
    close() {
      closed = true;
      current?.abort();
    },
  };
}
