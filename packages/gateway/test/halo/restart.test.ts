import { test } from "node:test";
import assert from "node:assert/strict";
import {
  authenticateKey,
  createApiKey,
  createSignInMessage,
  issueNonce,
  listApiKeys,
  openHaloDb,
  reserveSpend,
  sessionFor,
  settleSpend,
  signIn,
  spendingOf,
} from "../../src/halo/index.ts";
import { alice, freshHome, T0, throwsCode } from "./support.ts";

test("a restarted gateway keeps keys, spending and sessions, and drops the holds of requests that died with it", async () => {
  const home = freshHome();
  let db = openHaloDb(home);
  const key = createApiKey(db, { owner: alice.address, limitWei: 1000n, now: T0 });
  settleSpend(db, reserveSpend(db, key.id, 500n, T0), 200n, T0);
  reserveSpend(db, key.id, 800n, T0); // in flight when the process dies
  throwsCode(() => reserveSpend(db, key.id, 1n, T0), "QUOTA_EXCEEDED");
  const { nonce } = issueNonce(db, T0);
  const message = createSignInMessage({ address: alice.address, domain: "gw.test", uri: "http://gw.test", chainId: 1, nonce, now: T0 });
  const session = await signIn(db, { message, signature: await alice.signMessage({ message }) }, { domain: "gw.test", now: T0 });
  db.close();

  db = openHaloDb(home);
  assert.equal(authenticateKey(db, key.key).id, key.id);
  assert.equal(sessionFor(db, session.token, T0 + 1000), alice.address);
  assert.equal(listApiKeys(db, alice.address)[0]!.spentWei, 200n);
  assert.equal(spendingOf(db, alice.address, T0).reservedWei, 0n);
  reserveSpend(db, key.id, 800n, T0);
  throwsCode(() => reserveSpend(db, key.id, 1n, T0), "QUOTA_EXCEEDED");
  db.close();
});

test("a nonce used before a restart stays used after it", async () => {
  const home = freshHome();
  let db = openHaloDb(home);
  const { nonce } = issueNonce(db, T0);
  const message = createSignInMessage({ address: alice.address, domain: "gw.test", uri: "http://gw.test", chainId: 1, nonce, now: T0 });
  const signature = await alice.signMessage({ message });
  await signIn(db, { message, signature }, { domain: "gw.test", now: T0 });
  db.close();
  db = openHaloDb(home);
  await assert.rejects(signIn(db, { message, signature }, { domain: "gw.test", now: T0 + 1000 }), { code: "UNAUTHORIZED" });
  db.close();
});
