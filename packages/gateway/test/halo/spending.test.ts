import { test } from "node:test";
import assert from "node:assert/strict";
import { Worker } from "node:worker_threads";
import { createApiKey, listApiKeys, reserveSpend, settleSpend, spendingOf } from "../../src/halo/index.ts";
import { revokeApiKey } from "../../src/halo/revokeApiKey.ts";
import { alice, bob, freshDb, T0, throwsCode } from "./support.ts";

test("a key's limit is reached exactly at the boundary: spent plus held plus this request may equal it, never pass it", () => {
  const { db } = freshDb();
  const { id } = createApiKey(db, { owner: alice.address, limitWei: 1000n, now: T0 });
  const first = reserveSpend(db, id, 400n, T0);
  settleSpend(db, first, 300n, T0);
  reserveSpend(db, id, 200n, T0); // held, not settled
  const e = throwsCode(() => reserveSpend(db, id, 501n, T0), "QUOTA_EXCEEDED");
  assert.deepEqual(e.details, { keyId: id, limitWei: "1000", spentWei: "300", reservedWei: "200", requestedWei: "501" });
  reserveSpend(db, id, 500n, T0);
  throwsCode(() => reserveSpend(db, id, 1n, T0), "QUOTA_EXCEEDED");
});

test("a request that could cost more than the whole limit is refused before anything is held or paid", () => {
  const { db } = freshDb();
  const { id } = createApiKey(db, { owner: alice.address, limitWei: 100n, now: T0 });
  throwsCode(() => reserveSpend(db, id, 101n, T0), "QUOTA_EXCEEDED");
  assert.equal(db.prepare("SELECT COUNT(*) AS n FROM spend_reservations").get()!.n, 0);
  assert.equal(spendingOf(db, alice.address, T0).spentWei, 0n);
});

test("settling charges only what the answer cost and releases the rest of the hold", () => {
  const { db } = freshDb();
  const { id } = createApiKey(db, { owner: alice.address, limitWei: 1000n, now: T0 });
  const r = reserveSpend(db, id, 1000n, T0);
  throwsCode(() => reserveSpend(db, id, 1n, T0), "QUOTA_EXCEEDED");
  assert.equal(settleSpend(db, r, 120n, T0), true);
  assert.equal(listApiKeys(db, alice.address)[0]!.spentWei, 120n);
  assert.equal(spendingOf(db, alice.address, T0).reservedWei, 0n);
  reserveSpend(db, id, 880n, T0);
});

test("settling the same request twice charges it once", () => {
  const { db } = freshDb();
  const { id } = createApiKey(db, { owner: alice.address, limitWei: 1000n, now: T0 });
  const r = reserveSpend(db, id, 100n, T0);
  assert.equal(settleSpend(db, r, 70n, T0), true);
  assert.equal(settleSpend(db, r, 70n, T0), false);
  assert.equal(listApiKeys(db, alice.address)[0]!.spentWei, 70n);
});

test("a hold whose request never settles stops counting when it expires, and settling it late still charges", () => {
  const { db } = freshDb();
  const { id } = createApiKey(db, { owner: alice.address, limitWei: 100n, now: T0 });
  const lost = reserveSpend(db, id, 100n, T0, 60_000);
  throwsCode(() => reserveSpend(db, id, 1n, T0 + 59_999), "QUOTA_EXCEEDED");
  const later = reserveSpend(db, id, 60n, T0 + 60_000);
  settleSpend(db, lost, 40n, T0 + 61_000);
  assert.equal(listApiKeys(db, alice.address)[0]!.spentWei, 40n);
  throwsCode(() => reserveSpend(db, id, 1n, T0 + 61_000), "QUOTA_EXCEEDED");
  settleSpend(db, later, 0n, T0 + 62_000);
  reserveSpend(db, id, 60n, T0 + 62_000);
});

test("a key without a limit holds and charges without refusing", () => {
  const { db } = freshDb();
  const { id } = createApiKey(db, { owner: alice.address, now: T0 });
  const r = reserveSpend(db, id, 10n ** 30n, T0);
  settleSpend(db, r, 10n ** 25n, T0);
  assert.equal(listApiKeys(db, alice.address)[0]!.spentWei, 10n ** 25n);
});

test("a key revoked while its request was being prepared holds nothing: UNAUTHORIZED", () => {
  const { db } = freshDb();
  const { id } = createApiKey(db, { owner: alice.address, limitWei: 100n, now: T0 });
  revokeApiKey(db, { id, owner: alice.address, now: T0 });
  throwsCode(() => reserveSpend(db, id, 1n, T0), "UNAUTHORIZED");
});

test("amounts larger than SQLite's 64-bit integers are held and charged exactly", () => {
  const { db } = freshDb();
  const limit = 10n ** 24n + 7n;
  const { id } = createApiKey(db, { owner: alice.address, limitWei: limit, now: T0 });
  const r = reserveSpend(db, id, limit, T0);
  settleSpend(db, r, limit - 1n, T0);
  reserveSpend(db, id, 1n, T0);
  throwsCode(() => reserveSpend(db, id, 1n, T0), "QUOTA_EXCEEDED");
  assert.equal(listApiKeys(db, alice.address)[0]!.spentWei, limit - 1n);
});

test("spendingOf sums a wallet's keys, what each spent, holds and how many requests it paid, and nobody else's", () => {
  const { db } = freshDb();
  const a = createApiKey(db, { owner: alice.address, name: "a", limitWei: 1000n, now: T0 });
  const b = createApiKey(db, { owner: alice.address, name: "b", now: T0 + 1 });
  const c = createApiKey(db, { owner: bob.address, now: T0 });
  settleSpend(db, reserveSpend(db, a.id, 100n, T0), 10n, T0);
  settleSpend(db, reserveSpend(db, a.id, 100n, T0), 20n, T0);
  settleSpend(db, reserveSpend(db, b.id, 100n, T0), 5n, T0);
  reserveSpend(db, b.id, 50n, T0);
  settleSpend(db, reserveSpend(db, c.id, 100n, T0), 99n, T0);
  const s = spendingOf(db, alice.address, T0);
  assert.equal(s.spentWei, 35n);
  assert.equal(s.reservedWei, 50n);
  assert.equal(s.requests, 3);
  assert.deepEqual(
    s.keys.map((k) => [k.name, k.spentWei, k.reservedWei, k.requests]),
    [
      ["b", 5n, 50n, 1],
      ["a", 30n, 0n, 2],
    ],
  );
});

/** Run `workers` threads, each with its own connection, racing `attempts` holds of `maxWei` on one key. */
async function race(home: string, keyId: string, workers: number, attempts: number, maxWei: bigint, settleWei?: bigint) {
  const barrier = new SharedArrayBuffer(8);
  const gate = new Int32Array(barrier);
  const threads = Array.from(
    { length: workers },
    () =>
      new Worker(new URL("./reserveWorker.ts", import.meta.url), {
        workerData: { home, keyId, maxWei: maxWei.toString(), attempts, barrier, settleWei: settleWei?.toString() },
      }),
  );
  const results = threads.map(
    (w) =>
      new Promise<{ held: number; refused: number }>((resolve, reject) => {
        w.once("message", resolve);
        w.once("error", reject);
      }),
  );
  while (Atomics.load(gate, 1) < workers) await new Promise((r) => setTimeout(r, 5));
  Atomics.store(gate, 0, 1);
  Atomics.notify(gate, 0);
  return Promise.all(results);
}

test("many holds racing on one key from four connections at once never hold more than its limit", async () => {
  const { db, home } = freshDb();
  const { id } = createApiKey(db, { owner: alice.address, limitWei: 10n * 7n + 6n, now: T0 });
  const results = await race(home, id, 4, 10, 7n);
  const held = results.reduce((n, r) => n + r.held, 0);
  const refused = results.reduce((n, r) => n + r.refused, 0);
  assert.equal(held, 10);
  assert.equal(refused, 30);
  assert.equal(spendingOf(db, alice.address, Date.now()).reservedWei, 70n);
});

test("many requests racing to hold and settle on one key from four connections never spend past its limit", async () => {
  const { db, home } = freshDb();
  const { id } = createApiKey(db, { owner: alice.address, limitWei: 100n, now: T0 });
  const results = await race(home, id, 4, 25, 10n, 3n);
  const held = results.reduce((n, r) => n + r.held, 0);
  const spent = listApiKeys(db, alice.address)[0]!.spentWei;
  assert.equal(spent, BigInt(held) * 3n);
  assert.ok(spent <= 100n, `spent ${spent}`);
  // Each paid 3 of its 10: holds are released as they settle, so many more than 10 requests fit, and
  // the last one held left too little for another (at most three others could hold 10 each then).
  assert.ok(held > 10, `held ${held}`);
  assert.ok(spent + 10n + 3n * 10n > 100n, `spent ${spent}`);
  assert.equal(spendingOf(db, alice.address, Date.now()).reservedWei, 0n);
});
