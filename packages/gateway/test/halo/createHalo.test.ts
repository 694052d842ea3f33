import { test } from "node:test";
import assert from "node:assert/strict";
import type http from "node:http";
import { createHalo, createSignInMessage } from "../../src/halo/index.ts";
import { alice, bob, freshHome, rejectsCode, T0, throwsCode } from "./support.ts";

const ORIGIN = new URL("http://127.0.0.1:8650");
const CHAIN = 31337;

/** A request as the handlers see it; Halo reads only its Authorization header. */
const request = (token?: string) => ({ headers: token ? { authorization: `Bearer ${token}` } : {} }) as http.IncomingMessage;

function halo() {
  let now = T0;
  const h = createHalo({ home: freshHome(), chainId: CHAIN, now: () => now });
  const signInAs = async (account: typeof alice) => {
    const { nonce } = h.nonce();
    const message = createSignInMessage({ address: account.address, domain: ORIGIN.host, uri: ORIGIN.origin, chainId: CHAIN, nonce, now });
    return h.signIn(message, await account.signMessage({ message }), ORIGIN);
  };
  return { h, signInAs, advance: (ms: number) => (now += ms) };
}

test("a signed-in wallet creates a key, the key calls the API as that wallet, and the listing shows it without its secret", async () => {
  const { h, signInAs } = halo();
  const s = await signInAs(alice);
  const owner = h.sessionOwner(request(s.token));
  assert.equal(owner, alice.address);
  const created = h.createKey(owner, { name: "ci", limitWei: 10n ** 18n, rpm: 10 });
  assert.deepEqual(h.auth.apiCaller(request(created.key)), { owner: alice.address, keyId: created.id });
  assert.deepEqual(h.auth.anyCaller(request(s.token)), { owner: alice.address });
  const [view] = h.listKeys(owner);
  assert.deepEqual(view, {
    id: created.id,
    name: "ci",
    prefix: created.prefix,
    limit: "1000000000000000000",
    spent: "0",
    rpm: 10,
    created_at: T0 / 1000,
    revoked_at: null,
  });
  h.close();
});

test("inference refuses a session token, and key management refuses an API key", async () => {
  const { h, signInAs } = halo();
  const s = await signInAs(alice);
  const created = h.createKey(alice.address, {});
  throwsCode(() => h.auth.apiCaller(request(s.token)), "UNAUTHORIZED");
  throwsCode(() => h.sessionOwner(request(created.key)), "UNAUTHORIZED");
  throwsCode(() => h.auth.apiCaller(request()), "UNAUTHORIZED");
  h.close();
});

test("a key's rate limit applies to every call made with it and says when to retry", () => {
  const { h, advance } = halo();
  const { key } = h.createKey(alice.address, { rpm: 2 });
  h.auth.apiCaller(request(key));
  h.auth.anyCaller(request(key));
  const e = throwsCode(() => h.auth.apiCaller(request(key)), "RATE_LIMITED");
  assert.equal(e.details.retryAfterSeconds, 30);
  advance(30_000);
  h.auth.apiCaller(request(key));
  h.close();
});

test("a hold charges its key what the answer cost, and settling it again changes nothing", () => {
  const { h } = halo();
  const { key, id } = h.createKey(alice.address, { limitWei: 100n });
  const caller = h.auth.apiCaller(request(key));
  const hold = h.auth.hold(caller, 100n);
  throwsCode(() => h.auth.hold(caller, 1n), "QUOTA_EXCEEDED");
  hold.settle(40n);
  hold.settle(40n);
  const spending = h.spending(alice.address);
  assert.equal(spending.spent, "40");
  assert.deepEqual(
    spending.keys.map((k) => [k.id, k.spent, k.reserved, k.requests]),
    [[id, "40", "0", 1]],
  );
  h.close();
});

test("a wallet cannot revoke another wallet's key (FORBIDDEN), and revoking its own stops the key at once", async () => {
  const { h } = halo();
  const { key, id } = h.createKey(alice.address, {});
  throwsCode(() => h.revokeKey(bob.address, id), "FORBIDDEN");
  h.auth.apiCaller(request(key));
  h.revokeKey(alice.address, id);
  assert.match(throwsCode(() => h.auth.apiCaller(request(key)), "UNAUTHORIZED").message, /revoked/);
  h.close();
});

test("sign-in through the service checks the gateway's own host and chain", async () => {
  const { h } = halo();
  const { nonce } = h.nonce();
  const message = createSignInMessage({ address: alice.address, domain: "localhost:8650", uri: "http://localhost:8650", chainId: CHAIN, nonce, now: T0 });
  await rejectsCode(h.signIn(message, await alice.signMessage({ message }), ORIGIN), "UNAUTHORIZED");
  h.close();
});

test("signing out through the service ends the session", async () => {
  const { h, signInAs } = halo();
  const s = await signInAs(alice);
  assert.equal(h.signOut(s.token), true);
  throwsCode(() => h.sessionOwner(request(s.token)), "UNAUTHORIZED");
  throwsCode(() => h.auth.anyCaller(request(s.token)), "UNAUTHORIZED");
  h.close();
});
