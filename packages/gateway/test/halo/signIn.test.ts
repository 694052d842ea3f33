import { test } from "node:test";
import assert from "node:assert/strict";
import { createSiweMessage } from "viem/siwe";
import { createSignInMessage, issueNonce, sessionFor, signIn, signOut } from "../../src/halo/index.ts";
import { alice, bob, freshDb, rejectsCode, T0, throwsCode } from "./support.ts";

const DOMAIN = "gateway.lily.test:8080";
const URI = "http://gateway.lily.test:8080";
const CHAIN = 31337;
const ours = (now: number) => ({ domain: DOMAIN, uri: URI, chainId: CHAIN, now });

/** A fresh nonce and a message for it signed by `signer` (alice unless told). */
async function signed(db: Parameters<typeof issueNonce>[0], over: Partial<Parameters<typeof createSignInMessage>[0]> = {}, signer = alice) {
  const { nonce } = issueNonce(db, T0);
  const message = createSignInMessage({ address: alice.address, domain: DOMAIN, uri: URI, chainId: CHAIN, nonce, now: T0, ...over });
  return { nonce, message, signature: await signer.signMessage({ message }) };
}

test("signing in with a fresh nonce yields a session for the signer's address, stored only as a hash", async () => {
  const { db } = freshDb();
  const { message, signature } = await signed(db);
  const session = await signIn(db, { message, signature }, ours(T0 + 1000));
  assert.equal(session.address, alice.address);
  assert.match(session.token, /^lily_ss_[A-Za-z0-9_-]{43}$/);
  assert.equal(session.expiresAt, T0 + 1000 + 24 * 3600_000);
  assert.equal(sessionFor(db, session.token, T0 + 2000), alice.address);
  const stored = JSON.stringify(db.prepare("SELECT hex(hash) AS hash, address FROM sessions").all());
  assert.ok(!stored.includes(session.token.slice(8)));
});

test("a message built by viem's createSiweMessage (as the CLI does) signs in too", async () => {
  const { db } = freshDb();
  const { nonce } = issueNonce(db, T0);
  const message = createSiweMessage({
    address: alice.address,
    chainId: CHAIN,
    domain: DOMAIN,
    nonce,
    uri: URI,
    version: "1",
    statement: "Sign in to the Lily gateway.",
    issuedAt: new Date(T0),
    expirationTime: new Date(T0 + 600_000),
  });
  const session = await signIn(db, { message, signature: await alice.signMessage({ message }) }, ours(T0 + 1000));
  assert.equal(session.address, alice.address);
});

test("the same signed message cannot sign in twice: its nonce is used up", async () => {
  const { db } = freshDb();
  const { message, signature } = await signed(db);
  await signIn(db, { message, signature }, ours(T0 + 1000));
  const e = await rejectsCode(signIn(db, { message, signature }, ours(T0 + 2000)), "UNAUTHORIZED");
  assert.match(e.message, /nonce/);
});

test("two sign-ins racing with the same message: exactly one gets a session", async () => {
  const { db } = freshDb();
  const { message, signature } = await signed(db);
  const results = await Promise.allSettled([signIn(db, { message, signature }, ours(T0 + 1000)), signIn(db, { message, signature }, ours(T0 + 1000))]);
  assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
  assert.equal(db.prepare("SELECT COUNT(*) AS n FROM sessions").get()!.n, 1);
});

const refusals: [string, (db: Parameters<typeof issueNonce>[0]) => Promise<{ message: string; signature: `0x${string}` }>, number, string][] = [
  ["a message for another domain", (db) => signed(db, { domain: "evil.example", uri: "https://evil.example" }), T0 + 1000, "message"],
  ["a message whose uri is on another origin", (db) => signed(db, { uri: "https://evil.example/login" }), T0 + 1000, "message"],
  ["a message for another chain", (db) => signed(db, { chainId: 1 }), T0 + 1000, "message"],
  ["an expired message", (db) => signed(db, { validForMs: 60_000 }), T0 + 60_000, "message"],
  ["a message issued in the future", (db) => signed(db, { now: T0 + 3600_000 }), T0 + 1000, "message"],
  ["a message signed by another wallet than the one it names", (db) => signed(db, {}, bob), T0 + 1000, "signature"],
  ["a message with a nonce this gateway never issued", async (db) => signed(db, { nonce: "abcdef0123456789abcdef0123456789" }), T0 + 1000, "message"],
  ["a message whose nonce has expired", (db) => signed(db, { validForMs: 3600_000 }), T0 + 10 * 60_000, "message"],
  [
    "a tampered message (statement changed after signing)",
    async (db) => {
      const s = await signed(db);
      return { ...s, message: s.message.replace("Sign in to the Lily gateway.", "Sign in to the Lily gateway!") };
    },
    T0 + 1000,
    "signature",
  ],
  [
    "a tampered message (address swapped after signing)",
    async (db) => {
      const s = await signed(db);
      return { ...s, message: s.message.replace(alice.address, bob.address) };
    },
    T0 + 1000,
    "signature",
  ],
  ["a malformed signature", async (db) => ({ ...(await signed(db)), signature: "0x1234" as const }), T0 + 1000, "signature"],
];

for (const [what, make, at, field] of refusals) {
  test(`${what} is refused with UNAUTHORIZED and leaves no session`, async () => {
    const { db } = freshDb();
    const { message, signature } = await make(db);
    const e = await rejectsCode(signIn(db, { message, signature }, ours(at)), "UNAUTHORIZED");
    assert.equal(e.field, field, e.message);
    assert.equal(db.prepare("SELECT COUNT(*) AS n FROM sessions").get()!.n, 0);
  });
}

test("a refused sign-in does not use up the nonce: the honest signature still works", async () => {
  const { db } = freshDb();
  const { message, signature } = await signed(db);
  const forged = await bob.signMessage({ message });
  await rejectsCode(signIn(db, { message, signature: forged }, ours(T0 + 1000)), "UNAUTHORIZED");
  assert.equal((await signIn(db, { message, signature }, ours(T0 + 2000))).address, alice.address);
});

test("a message that is not EIP-4361 is INVALID_INPUT naming the message", async () => {
  const { db } = freshDb();
  const e = await rejectsCode(signIn(db, { message: "let me in", signature: await alice.signMessage({ message: "let me in" }) }, ours(T0)), "INVALID_INPUT");
  assert.equal(e.field, "message");
});

test("a message not valid before a later time is refused until then", async () => {
  const { db } = freshDb();
  const { nonce } = issueNonce(db, T0);
  const message = createSiweMessage({
    address: alice.address,
    chainId: CHAIN,
    domain: DOMAIN,
    nonce,
    uri: URI,
    version: "1",
    issuedAt: new Date(T0),
    notBefore: new Date(T0 + 60_000),
  });
  const signature = await alice.signMessage({ message });
  await rejectsCode(signIn(db, { message, signature }, ours(T0 + 1000)), "UNAUTHORIZED");
  assert.equal((await signIn(db, { message, signature }, ours(T0 + 60_000))).address, alice.address);
});

test("a session ends when it expires", async () => {
  const { db } = freshDb();
  const { message, signature } = await signed(db);
  const s = await signIn(db, { message, signature }, { ...ours(T0), sessionTtlMs: 3600_000 });
  assert.equal(sessionFor(db, s.token, T0 + 3600_000 - 1), alice.address);
  assert.match(throwsCode(() => sessionFor(db, s.token, T0 + 3600_000), "UNAUTHORIZED").message, /expired/);
});

test("signing out ends the session at once; signing out again finds nothing", async () => {
  const { db } = freshDb();
  const { message, signature } = await signed(db);
  const s = await signIn(db, { message, signature }, ours(T0));
  assert.equal(signOut(db, s.token), true);
  throwsCode(() => sessionFor(db, s.token, T0 + 1), "UNAUTHORIZED");
  assert.equal(signOut(db, s.token), false);
});

for (const [what, token] of [
  ["no token", undefined],
  ["a malformed token", "lily_ss_short"],
  ["an unknown token", `lily_ss_${"Z".repeat(43)}`],
  ["an API key", `lily_sk_${"Z".repeat(43)}`],
] as const) {
  test(`${what} is not a session: UNAUTHORIZED`, () => {
    const { db } = freshDb();
    throwsCode(() => sessionFor(db, token, T0), "UNAUTHORIZED");
  });
}

test("nonces are random and single-use records that expire after ten minutes", () => {
  const { db } = freshDb();
  const a = issueNonce(db, T0);
  const b = issueNonce(db, T0);
  assert.notEqual(a.nonce, b.nonce);
  assert.match(a.nonce, /^[0-9a-f]{32}$/);
  assert.equal(a.expiresAt, T0 + 10 * 60_000);
  issueNonce(db, T0 + 10 * 60_000);
  assert.equal(db.prepare("SELECT COUNT(*) AS n FROM siwe_nonces").get()!.n, 1, "expired nonces are dropped as new ones are issued");
});
