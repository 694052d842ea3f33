// Halo over the gateway's HTTP API, as a wallet and the studio meet it: Sign-In with Ethereum
// (viem's EIP-4361 message, signed by the wallet) yields a session; the session makes an API key
// that is shown once and never listed, and revokes it, after which the key is refused; another
// wallet cannot revoke it; a key cannot manage keys; and a signed sign-in message works only once.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { parseEther } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import type { RunningGateway } from "../src/index.ts";
import { call, createKey, openai, postSignIn, signIn, signedSignIn, startGatewayNetwork, type GatewayNetwork } from "./network.ts";

const alice = privateKeyToAccount(`0x${"a1".repeat(32)}`);
const bob = privateKeyToAccount(`0x${"b2".repeat(32)}`);

let net: GatewayNetwork;
let gateway: RunningGateway;
let chainId: number;

before(async () => {
  net = await startGatewayNetwork("halo");
  chainId = net.endpoints.chainId;
  const payer = await net.party("halo gateway", { leasesDeposit: parseEther("1") });
  gateway = await net.startGateway(payer.account!);
});
after(() => net?.stop());

test("a signed-in wallet's new key is shown once, never listed, works until revoked and is refused with 401 after", async () => {
  const session = await signIn(gateway.url, alice, chainId);
  const me = await call<{ address: string }>(gateway.url, "GET", "/v1/auth/me", session);
  assert.equal(me.body.address, alice.address, "the session is alice's");

  const made = await createKey(gateway.url, session, { name: "laptop", rpm: 100 });
  assert.match(made.key, /^lily_sk_/);
  assert.ok(made.key.startsWith(made.prefix), "the listed prefix is the key's start");
  const listed = await call<{ data: Record<string, unknown>[] }>(gateway.url, "GET", "/v1/keys", session);
  assert.equal(listed.status, 200);
  assert.deepEqual(
    listed.body.data.map((k) => [k.id, k.name, k.prefix, k.revoked_at]),
    [[made.id, "laptop", made.prefix, null]],
  );
  assert.ok(!JSON.stringify(listed.body).includes(made.key), "the list never shows the key");

  await openai(gateway.url, made.key).models.list();
  const revoked = await call(gateway.url, "DELETE", `/v1/keys/${made.id}`, session);
  assert.equal(revoked.status, 200);
  await assert.rejects(openai(gateway.url, made.key).models.list(), (e) => e instanceof OpenAI.AuthenticationError && e.status === 401);
  const usage = await call<{ error: { type: string } }>(gateway.url, "GET", "/v1/usage", made.key);
  assert.equal(usage.status, 401);
  assert.equal(usage.body.error.type, "authentication_error");
  const after = await call<{ data: { revoked_at: number | null }[] }>(gateway.url, "GET", "/v1/keys", session);
  assert.ok(after.body.data[0]!.revoked_at, "the list shows it revoked");
});

test("another wallet cannot revoke a key: 403, and the key still works", async () => {
  const aliceKey = await createKey(gateway.url, await signIn(gateway.url, alice, chainId));
  const bobSession = await signIn(gateway.url, bob, chainId);
  const refused = await call<{ error: { type: string } }>(gateway.url, "DELETE", `/v1/keys/${aliceKey.id}`, bobSession);
  assert.equal(refused.status, 403, JSON.stringify(refused.body));
  assert.deepEqual((await call<{ data: unknown[] }>(gateway.url, "GET", "/v1/keys", bobSession)).body.data, [], "bob sees none of alice's keys");
  await openai(gateway.url, aliceKey.key).models.list();
});

test("an API key cannot manage keys: creating, listing and revoking with one are 401", async () => {
  const made = await createKey(gateway.url, await signIn(gateway.url, alice, chainId));
  for (const [method, path, body] of [
    ["POST", "/v1/keys", {}],
    ["GET", "/v1/keys", undefined],
    ["DELETE", `/v1/keys/${made.id}`, undefined],
  ] as const) {
    const res = await call(gateway.url, method, path, made.key, body);
    assert.equal(res.status, 401, `${method} ${path} with an API key`);
  }
  await openai(gateway.url, made.key).models.list();
});

test("a sign-in message works once: sent again, it is refused with 401", async () => {
  const signed = await signedSignIn(gateway.url, bob, chainId);
  assert.equal((await postSignIn(gateway.url, signed)).status, 200);
  const replay = await postSignIn(gateway.url, signed);
  assert.equal(replay.status, 401);
  assert.match(((await replay.json()) as { error: { message: string } }).error.message, /nonce/);
});
