import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { authenticateKey, createApiKey, listApiKeys, revokeApiKey } from "../../src/halo/index.ts";
import { alice, bob, freshDb, T0, throwsCode } from "./support.ts";

test("a new key is shown once as lily_sk_ and 32 random bytes, and the database keeps only its sha-256 and a short prefix", () => {
  const { db } = freshDb();
  const created = createApiKey(db, { owner: alice.address, name: "laptop", limitWei: 10n ** 18n, rpm: 60, now: T0 });
  assert.match(created.key, /^lily_sk_[A-Za-z0-9_-]{43}$/);
  assert.equal(Buffer.from(created.key.slice(8), "base64url").length, 32);
  assert.ok(created.key.startsWith(created.prefix) && created.prefix.length < 20);
  const row = db.prepare("SELECT * FROM api_keys WHERE id = ?").get(created.id) as Record<string, unknown>;
  assert.deepEqual(Buffer.from(row.hash as Uint8Array), createHash("sha256").update(created.key).digest());
  const secretPart = created.key.slice(created.prefix.length);
  for (const table of ["api_keys", "spend_reservations", "spends", "sessions", "siwe_nonces"]) {
    const dump = JSON.stringify(db.prepare(`SELECT * FROM ${table}`).all(), (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString("hex") : v));
    assert.ok(!dump.includes(secretPart), `${table} must not hold the key's secret part`);
  }
});

test("listing a wallet's keys shows limits, spending and revocation but never the secret or its hash", () => {
  const { db } = freshDb();
  const a = createApiKey(db, { owner: alice.address, name: "one", limitWei: 500n, rpm: 3, now: T0 });
  createApiKey(db, { owner: alice.address, now: T0 + 1 });
  createApiKey(db, { owner: bob.address, now: T0 });
  revokeApiKey(db, { id: a.id, owner: alice.address, now: T0 + 5 });
  const keys = listApiKeys(db, alice.address.toLowerCase());
  assert.equal(keys.length, 2);
  const one = keys.find((k) => k.id === a.id)!;
  assert.deepEqual(one, {
    id: a.id,
    owner: alice.address,
    name: "one",
    prefix: a.prefix,
    limitWei: 500n,
    spentWei: 0n,
    rpm: 3,
    createdAt: T0,
    revokedAt: T0 + 5,
  });
  assert.ok(!JSON.stringify(keys, (_k, v) => (typeof v === "bigint" ? v.toString() : v)).includes(a.key.slice(a.prefix.length)));
  assert.deepEqual(Object.keys(one).sort(), ["createdAt", "id", "limitWei", "name", "owner", "prefix", "revokedAt", "rpm", "spentWei"]);
});

test("the key authenticates to its record and owner", () => {
  const { db } = freshDb();
  const created = createApiKey(db, { owner: alice.address.toLowerCase(), now: T0 });
  const key = authenticateKey(db, created.key);
  assert.equal(key.id, created.id);
  assert.equal(key.owner, alice.address);
});

for (const [what, presented] of [
  ["no key", undefined],
  ["an empty key", ""],
  ["a malformed key", "sk-not-ours"],
  ["a key one character too short", `lily_sk_${"A".repeat(42)}`],
  ["an unknown key of the right shape", `lily_sk_${"A".repeat(43)}`],
] as const) {
  test(`${what} is UNAUTHORIZED`, () => {
    const { db } = freshDb();
    createApiKey(db, { owner: alice.address, now: T0 });
    const e = throwsCode(() => authenticateKey(db, presented), "UNAUTHORIZED");
    assert.equal(e.field, "authorization");
  });
}

test("a key differing from a real one only after its prefix is UNAUTHORIZED", () => {
  const { db } = freshDb();
  const created = createApiKey(db, { owner: alice.address, now: T0 });
  const last = created.key.at(-1) === "A" ? "B" : "A";
  throwsCode(() => authenticateKey(db, created.key.slice(0, -1) + last), "UNAUTHORIZED");
});

test("a revoked key is UNAUTHORIZED with a message saying it was revoked", () => {
  const { db } = freshDb();
  const created = createApiKey(db, { owner: alice.address, now: T0 });
  revokeApiKey(db, { id: created.id, owner: alice.address });
  const e = throwsCode(() => authenticateKey(db, created.key), "UNAUTHORIZED");
  assert.match(e.message, /revoked/);
});

test("another wallet cannot revoke a key: FORBIDDEN, and the key keeps working", () => {
  const { db } = freshDb();
  const created = createApiKey(db, { owner: alice.address, now: T0 });
  throwsCode(() => revokeApiKey(db, { id: created.id, owner: bob.address }), "FORBIDDEN");
  assert.equal(authenticateKey(db, created.key).id, created.id);
});

test("revoking an unknown key is NOT_FOUND", () => {
  const { db } = freshDb();
  throwsCode(() => revokeApiKey(db, { id: "key_nothing", owner: alice.address }), "NOT_FOUND");
});

test("revoking twice keeps the first revocation time", () => {
  const { db } = freshDb();
  const created = createApiKey(db, { owner: alice.address, now: T0 });
  revokeApiKey(db, { id: created.id, owner: alice.address, now: T0 + 10 });
  revokeApiKey(db, { id: created.id, owner: alice.address, now: T0 + 20 });
  assert.equal(listApiKeys(db, alice.address)[0]!.revokedAt, T0 + 10);
});

test("a key for something that is not an address, or with a negative limit or zero rpm, is INVALID_INPUT", () => {
  const { db } = freshDb();
  throwsCode(() => createApiKey(db, { owner: "0x1234", now: T0 }), "INVALID_INPUT");
  throwsCode(() => createApiKey(db, { owner: alice.address, limitWei: -1n, now: T0 }), "INVALID_INPUT");
  throwsCode(() => createApiKey(db, { owner: alice.address, rpm: 0, now: T0 }), "INVALID_INPUT");
});
