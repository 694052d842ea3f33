import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { randomBytes } from "node:crypto";
import type { Socket } from "node:net";
import { WebSocket, WebSocketServer } from "ws";
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

test("a subscriber that stops reading is dropped once it falls far behind", { timeout: 30_000 }, async (t) => {
  const { url, hub } = await startHub(t);
  const up = await upgrade(url, `${EVENTS_PATH}?provider=${provider(1)}`);
  assert.ok("socket" in up);
  up.socket.pause();
  let published = 0;
  for (let i = 0; i < 20_000; i++) {
    const ev = dealEvent(provider(1), i, "x".repeat(KiB));
    published += JSON.stringify(ev).length;
    hub.publish(ev);
    if (i % 500 === 0) await new Promise((r) => setImmediate(r));
  }
  const gone = closed(up.socket);
  up.socket.resume();
  const { received } = await gone;
  assert.ok(received < published, `the subscriber got all ${received} bytes`);
});

/** A WebSocket server (not the hub) that sends `message` to whoever connects; its URL. */
async function oversizeSender(t: TestContext, message: string): Promise<string> {
  const server = http.createServer();
  const wss = new WebSocketServer({ server });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.after(() => {
    wss.close();
    server.closeAllConnections();
    server.close();
  });
  wss.on("connection", (ws) => ws.send(message));
  return urlOf(server);
}

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

test("watchChanges tells what changed (record, status, who signed) without validating it, and nothing for what does not read as an event", async (t) => {
  const { url, hub } = await startHub(t);
  const hints: (ChangeHint | undefined)[] = [];
  let opened = 0;
  const w = watchChanges(url, { provider: provider(1) }, (h) => hints.push(h), { onOpen: () => opened++ });
  t.after(() => w.close());
  await eventually(() => (opened > 0 ? true : undefined), "the watch connected");
  const ev = dealEvent(provider(1), 7) as unknown as { record: Record<string, unknown> };
  hub.publish({ ...ev, record: { ...ev.record, status: "proposed", providerSignature: `0x${"11".repeat(65)}` } } as unknown as LilyEvent);
  hub.publish({ ...ev, record: { ...ev.record, status: "signed", providerSignature: "0x", jobCreatorSignature: "0x" } } as unknown as LilyEvent);
  hub.publish({ ...ev, record: { ...ev.record, status: 3 } } as unknown as LilyEvent);
  await eventually(() => (hints.length >= 3 ? true : undefined), "three changes");
  assert.deepEqual(hints, [
    { type: "deal", id: hex32(7), status: "proposed", providerSigned: true, jobCreatorSigned: false },
    { type: "deal", id: hex32(7), status: "signed", providerSigned: true, jobCreatorSigned: true },
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
  assert.equal((err as { code?: string }).code, "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH");
});

test("subscribe refuses an event larger than its cap and reports it", { timeout: 10_000 }, async (t) => {
  const url = await oversizeSender(t, JSON.stringify({ type: "deal", record: { padding: "x".repeat(2 * MiB) } }));
  const errors: unknown[] = [];
  const s = subscribe(url, { provider: provider(1) }, () => assert.fail("the event was delivered"), { onError: (e) => errors.push(e) });
  t.after(() => s.close());
  const err = await eventually(() => errors[0], "an error");
  assert.equal((err as { code?: string }).code, "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH");
});

test("subscribe refuses a malformed subscription before connecting", () => {
  assert.throws(
    () => subscribe("http://127.0.0.1:1", { provider: "nobody" }, () => {}),
    (e) => isLilyError(e, "INVALID_INPUT") && e.field === "subscription.provider",
  );
});
