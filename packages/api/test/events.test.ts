import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { randomBytes } from "node:crypto";
import type { Socket } from "node:net";
import { WebSocket } from "ws";
import { isLilyError } from "@lily/protocol";
import { attachEventHub, subscribe, watchChanges, EVENTS_PATH, type ChangeHint, type LilyEvent } from "../src/index.ts";
import { urlOf } from "./rawHttp.ts";

const KiB = 1024;
const MiB = 1024 * KiB;
const hex32 = (n: number) => `0x${n.toString(16).padStart(64, "0")}`;
const provider = (n: number) => `0x${n.toString(16).padStart(40, "0")}`;

/**
 * A deal event for provider `who`. The hub routes on these fields alone and does not re-validate
 * what its server publishes, so the rest of the record is left out.
 */
const dealEvent = (who: string, n = 1, padding = "") =>
  ({ type: "deal", record: { id: hex32(n), jobOfferId: hex32(2), deal: { provider: who, jobCreator: provider(0xc0ffee) }, padding } }) as unknown as LilyEvent;

async function startHub(t: TestContext) {
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const hub = attachEventHub(server);
  t.after(() => {
    hub.close();
    server.closeAllConnections();
    server.close();
  });
  return { url: urlOf(server), hub };
}

/** A subscriber on the real `ws` client, once connected, and the events it has received. */
async function listen(t: TestContext, url: string, query: string) {
  const events: { type: string; record: { deal: { provider: string } } }[] = [];
  const ws = new WebSocket(`${url.replace(/^http/, "ws")}${EVENTS_PATH}${query}`);
  ws.on("message", (data) => events.push(JSON.parse(String(data))));
  t.after(() => ws.terminate());
  await new Promise((r) => ws.once("open", r));
  return { ws, events };
}

async function eventually<T>(check: () => T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = check();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`never: ${what}`);
}

/** A WebSocket handshake by hand: the raw socket on 101, or the refusal's status and body. */
function upgrade(url: string, path: string): Promise<{ socket: Socket } | { status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      path,
      agent: false,
      headers: { connection: "Upgrade", upgrade: "websocket", "sec-websocket-key": randomBytes(16).toString("base64"), "sec-websocket-version": "13" },
    });
    req.on("upgrade", (_res, socket) => resolve({ socket }));
    req.on("response", (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode!, body }));
    });
    // A hub that hangs up without an answer: report it as status 0.
    req.on("error", (e: NodeJS.ErrnoException) => (e.code === "ECONNRESET" ? resolve({ status: 0, body: "" }) : reject(e)));
    req.end();
  });
}

/** Resolves when the peer closes `socket`; data that arrives is counted and dropped. */
function closed(socket: Socket): Promise<{ received: number }> {
  let received = 0;
  socket.on("data", (c: Buffer) => (received += c.length));
  socket.on("error", () => {});
  return new Promise((r) => socket.once("close", () => r({ received })));
}

test("a subscriber receives the events it subscribed to and no others", async (t) => {
  const { url, hub } = await startHub(t);
  const [mine, theirs] = [provider(1), provider(2)];
  const { events } = await listen(t, url, `?provider=${mine}`);
  hub.publish(dealEvent(theirs, 1));
  hub.publish(dealEvent(mine, 2));
  const got = await eventually(() => events[0], "an event");
  assert.equal(got.record.deal.provider, mine);
  assert.equal(events.length, 1);
});

test("a message over the hub's frame cap closes that socket with 1009, and the hub keeps serving others", { timeout: 10_000 }, async (t) => {
  const { url, hub } = await startHub(t);
  const { events } = await listen(t, url, `?provider=${provider(1)}`);
  const { ws: hostile } = await listen(t, url, "");
  const code = new Promise<number>((r) => hostile.once("close", r));
  hostile.send(Buffer.alloc(64 * KiB));
  assert.equal(await code, 1009);
  hub.publish(dealEvent(provider(1)));
  await eventually(() => events[0], "an event after the hostile socket was closed");
});

const hostileFrames: { what: string; frame: Buffer }[] = [
  {
    what: "a frame header announcing a terabyte",
    // FIN + binary, masked, 64-bit length 2^40, mask key; not one byte of payload follows.
    frame: Buffer.concat([Buffer.from([0x82, 0x80 | 127]), Buffer.from([0, 0, 1, 0, 0, 0, 0, 0]), randomBytes(4)]),
  },
  { what: "an unmasked frame", frame: Buffer.from([0x81, 0x05, ...Buffer.from("hello")]) },
  { what: "a frame with a reserved opcode", frame: Buffer.concat([Buffer.from([0x83, 0x80]), randomBytes(4)]) },
];

for (const { what, frame } of hostileFrames) {
  test(`${what} closes that socket and no other`, { timeout: 10_000 }, async (t) => {
    const { url, hub } = await startHub(t);
    const { events } = await listen(t, url, `?provider=${provider(1)}`);
    const up = await upgrade(url, EVENTS_PATH);
    assert.ok("socket" in up);
    const gone = closed(up.socket);
    up.socket.write(frame);
    await gone;
    hub.publish(dealEvent(provider(1)));
    await eventually(() => events[0], "an event after the hostile socket was closed");
  });
}

const badSubscriptions: { what: string; query: string; field: string }[] = [
  { what: "an unknown parameter", query: "?everything=1", field: "query" },
  { what: "a provider that is not an address", query: `?provider=${"a".repeat(4000)}`, field: "query.provider" },
  { what: "a deal that is not a 32-byte hex", query: "?deal=0x1234", field: "query.deal" },
  { what: "a bad percent-encoding", query: "?jobOffer=%E0%A4%A", field: "query.jobOffer" },
];

for (const { what, query, field } of badSubscriptions) {
  test(`a subscription with ${what} is refused with 400 naming ${field}`, async (t) => {
    const { url } = await startHub(t);
    const res = await upgrade(url, `${EVENTS_PATH}${query}`);
    assert.ok("status" in res, "the hub accepted the subscription");
    assert.equal(res.status, 400);
    const { error } = JSON.parse(res.body) as { error: { code: string; field: string } };
    assert.deepEqual([error.code, error.field], ["INVALID_INPUT", field]);
  });
}

test("an upgrade to the path // is refused, and the hub keeps serving", async (t) => {
  const { url } = await startHub(t);
  const res = await upgrade(url, "//");
  assert.ok("status" in res);
  assert.notEqual(res.status, 101);
  const ok = await upgrade(url, `${EVENTS_PATH}?provider=${provider(1)}`);
  assert.ok("socket" in ok);
  ok.socket.destroy();
});

/** Publishes ~20 MiB of provider(1)'s events, yielding now and then; the bytes of JSON published. */
async function flood(hub: { publish(ev: LilyEvent): void }): Promise<number> {
  let published = 0;
  for (let i = 0; i < 20_000; i++) {
    const ev = dealEvent(provider(1), i, "x".repeat(KiB));
    published += JSON.stringify(ev).length;
    hub.publish(ev);
    if (i % 500 === 0) await new Promise((r) => setImmediate(r));
  }
  return published;
}

test("a subscriber that stops reading is dropped once it falls far behind", { timeout: 30_000 }, async (t) => {
  const { url, hub } = await startHub(t);
  const up = await upgrade(url, `${EVENTS_PATH}?provider=${provider(1)}`);
  assert.ok("socket" in up);
  up.socket.pause();
  const published = await flood(hub);
  const gone = closed(up.socket);
  up.socket.resume();
  const { received } = await gone;
  assert.ok(received < published, `the subscriber got all ${received} bytes`);
});

/** An HTTP server (not the hub) that answers any event subscription with `message` as one server-sent event; its URL. */
async function oversizeSender(t: TestContext, message: string): Promise<string> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.write(`data: ${message}\n\n`);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return urlOf(server);
}

/** A server-sent event subscription by hand: the status, and the raw response to read events from. */
function streamed(t: TestContext, url: string, query: string): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${url}${EVENTS_PATH}${query}`, { agent: false, headers: { accept: "text/event-stream" } }, resolve);
    req.on("error", reject);
    t.after(() => req.destroy());
  });
}

/** The events a raw server-sent stream delivers, parsed, as they arrive. */
function eventsOf(res: http.IncomingMessage): { type: string; record: { deal: { provider: string } } }[] {
  const events: { type: string; record: { deal: { provider: string } } }[] = [];
  let text = "";
  res.setEncoding("utf8");
  res.on("data", (c: string) => {
    text += c;
    for (let end = text.indexOf("\n\n"); end >= 0; end = text.indexOf("\n\n")) {
      const block = text.slice(0, end);
      text = text.slice(end + 2);
      if (block.startsWith("data: ")) events.push(JSON.parse(block.slice(6)));
    }
  });
  return events;
}

test("a plain GET subscribes as a server-sent event stream: its events only, and the server's routes still answer everything else", async (t) => {
  const { url, hub } = await startHub(t);
  const [mine, theirs] = [provider(1), provider(2)];
  const res = await streamed(t, url, `?provider=${mine}`);
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers["content-type"]), /^text\/event-stream/);
  const events = eventsOf(res);
  hub.publish(dealEvent(theirs, 1));
  hub.publish(dealEvent(mine, 2));
  const got = await eventually(() => events[0], "an event");
  assert.equal(got.record.deal.provider, mine);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(events.length, 1);
  // Not the event stream: the server's own handler (a 404 here) answers, as before the hub.
  for (const [method, path] of [
    ["POST", EVENTS_PATH],
    ["GET", `${EVENTS_PATH}x`],
    ["GET", "/v1/deals"],
  ] as const) {
    const status = await new Promise<number>((resolve, reject) =>
      http
        .request(`${url}${path}`, { method, agent: false }, (r) => resolve(r.resume().statusCode!))
        .on("error", reject)
        .end(),
    );
    assert.equal(status, 404, `${method} ${path}`);
  }
});

for (const { what, query, field } of badSubscriptions) {
  test(`a server-sent subscription with ${what} is refused with 400 naming ${field}`, async (t) => {
    const { url } = await startHub(t);
    const res = await streamed(t, url, query);
    assert.equal(res.statusCode, 400);
    let body = "";
    for await (const c of res) body += c;
    const { error } = JSON.parse(body) as { error: { code: string; field: string } };
    assert.deepEqual([error.code, error.field], ["INVALID_INPUT", field]);
  });
}

test("a server-sent subscriber that stops reading is dropped once it falls far behind", { timeout: 30_000 }, async (t) => {
  const { url, hub } = await startHub(t);
  const res = await streamed(t, url, `?provider=${provider(1)}`);
  res.pause();
  const published = await flood(hub);
  let received = 0;
  const gone = new Promise<void>((r) => {
    res.on("close", () => r());
    res.on("error", () => r());
  });
  res.on("data", (c: Buffer) => (received += c.length));
  res.resume();
  await gone;
  assert.ok(received < published, `the subscriber got all ${received} bytes`);
});

test("watchChanges reconnects after the hub drops it, and says so each way", { timeout: 10_000 }, async (t) => {
  const { url, hub } = await startHub(t);
  let opened = 0;
  let closes = 0;
  let changes = 0;
  const w = watchChanges(url, { provider: provider(1) }, () => changes++, { onOpen: () => opened++, onClose: () => closes++ });
  t.after(() => w.close());
  await eventually(() => (opened === 1 ? true : undefined), "the watch connected");
  hub.close(); // drops every subscriber; the server itself keeps listening
  await eventually(() => (closes >= 1 && opened >= 2 ? true : undefined), "the watch noticed the drop and connected again");
});

test("watchChanges is told once per event it subscribed to, and never for others", async (t) => {
  const { url, hub } = await startHub(t);
  const [mine, theirs] = [provider(1), provider(2)];
  let changes = 0;
  let opened = 0;
  const w = watchChanges(url, { provider: mine }, () => changes++, { onOpen: () => opened++ });
  t.after(() => w.close());
  await eventually(() => (opened > 0 ? true : undefined), "the watch connected");
  hub.publish(dealEvent(theirs, 1));
  hub.publish(dealEvent(mine, 2));
  hub.publish(dealEvent(theirs, 3));
  hub.publish(dealEvent(mine, 4));
  await eventually(() => (changes >= 2 ? true : undefined), "two changes");
  // The others' events, sent in between, would have arrived by now too.
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(changes, 2);
});

test("watchChanges tells what changed (record, status, who signed, whether a result came) without validating it, and nothing for what does not read as an event", async (t) => {
  const { url, hub } = await startHub(t);
  const hints: (ChangeHint | undefined)[] = [];
  let opened = 0;
  const w = watchChanges(url, { provider: provider(1) }, (h) => hints.push(h), { onOpen: () => opened++ });
  t.after(() => w.close());
  await eventually(() => (opened > 0 ? true : undefined), "the watch connected");
  const ev = dealEvent(provider(1), 7) as unknown as { record: Record<string, unknown> };
  hub.publish({ ...ev, record: { ...ev.record, status: "proposed", providerSignature: `0x${"11".repeat(65)}` } } as unknown as LilyEvent);
  hub.publish({ ...ev, record: { ...ev.record, status: "signed", providerSignature: "0x", jobCreatorSignature: "0x" } } as unknown as LilyEvent);
  hub.publish({ ...ev, record: { ...ev.record, status: "committed", providerSignature: "0x", jobCreatorSignature: "0x", result: {} } } as unknown as LilyEvent);
  hub.publish({ ...ev, record: { ...ev.record, status: 3 } } as unknown as LilyEvent);
  await eventually(() => (hints.length >= 4 ? true : undefined), "four changes");
  assert.deepEqual(hints, [
    { type: "deal", id: hex32(7), status: "proposed", providerSigned: true, jobCreatorSigned: false, resulted: false },
    { type: "deal", id: hex32(7), status: "signed", providerSigned: true, jobCreatorSigned: true, resulted: false },
    { type: "deal", id: hex32(7), status: "committed", providerSigned: true, jobCreatorSigned: true, resulted: true },
    undefined,
  ]);
});

test("watchChanges refuses an event larger than the cap like subscribe, and a malformed subscription before connecting", { timeout: 10_000 }, async (t) => {
  assert.throws(
    () => watchChanges("http://127.0.0.1:1", { provider: "nobody" }, () => {}),
    (e) => isLilyError(e, "INVALID_INPUT") && e.field === "subscription.provider",
  );
  const url = await oversizeSender(t, "x".repeat(2 * MiB));
  const errors: unknown[] = [];
  const w = watchChanges(url, { provider: provider(1) }, () => assert.fail("the change was reported"), { onError: (e) => errors.push(e) });
  t.after(() => w.close());
  const err = await eventually(() => errors[0], "an error");
  assert.ok(isLilyError(err, "INVALID_INPUT") && err.field === "event", String(err));
});

test("subscribe refuses an event larger than its cap and reports it", { timeout: 10_000 }, async (t) => {
  const url = await oversizeSender(t, JSON.stringify({ type: "deal", record: { padding: "x".repeat(2 * MiB) } }));
  const errors: unknown[] = [];
  const s = subscribe(url, { provider: provider(1) }, () => assert.fail("the event was delivered"), { onError: (e) => errors.push(e) });
  t.after(() => s.close());
  const err = await eventually(() => errors[0], "an error");
  assert.ok(isLilyError(err, "INVALID_INPUT") && err.field === "event", String(err));
});

test("subscribe refuses a malformed subscription before connecting", () => {
  assert.throws(
    () => subscribe("http://127.0.0.1:1", { provider: "nobody" }, () => {}),
    (e) => isLilyError(e, "INVALID_INPUT") && e.field === "subscription.provider",
  );
});

test("a refused subscription is reported with its status, and tried again", { timeout: 10_000 }, async (t) => {
  // A server without the event stream: every request a 404 with a long body.
  const server = http.createServer((_req, res) => res.writeHead(404, { "content-type": "text/plain" }).end(`no events here ${"x".repeat(1024 * KiB)}`));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const errors: unknown[] = [];
  const w = watchChanges(urlOf(server), { provider: provider(1) }, () => assert.fail("a change was reported"), { onError: (e) => errors.push(e) });
  t.after(() => w.close());
  await eventually(() => (errors.length >= 2 ? true : undefined), "two refused attempts");
  assert.ok(isLilyError(errors[0], "UNREACHABLE"), String(errors[0]));
  assert.match(String((errors[0] as Error).message), /HTTP 404/);
});
