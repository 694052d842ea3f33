// The gateway's leases on a real network, in-process: providers serving the tiny GGUF, the gateway
// paying them by voucher, LilyLeases on anvil settling. A restarted gateway continues its lease and
// its vouchers only grow; a provider that goes silent has the payer's whole budget reclaimed once
// its claim window is over; and an honest provider that closes in time is paid exactly what the
// answers cost, less the model's royalty, while the payer gets the rest back. Chain time is moved
// forward, and the gateway and providers read the same clock.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { parseEther, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { leaseRecord, leaseWindows } from "@lily/chain";
import { leaseClient } from "../src/leases/providerClient.ts";
import { createKey, eventually, openai, signIn, startGatewayNetwork, type GatewayNetwork } from "./network.ts";

/** Short, so moving chain time past it costs nothing. */
const CLAIM_WINDOW_SECONDS = 60;
/** Long enough to serve a few answers (a lease stops taking requests a minute before it expires). */
const LEASE_SECONDS = 180;
const LEASES_DEPOSIT = parseEther("10");
const BUDGET = parseEther("1");

let net: GatewayNetwork;

before(async () => {
  net = await startGatewayNetwork("leases", { leaseClaimWindowSeconds: CLAIM_WINDOW_SECONDS });
});
after(() => net?.stop());

const user = privateKeyToAccount(`0x${"5e".repeat(32)}`);
const ask = (content: string) => ({ messages: [{ role: "user" as const, content }], temperature: 0, seed: 7, max_tokens: 12 });

/** A gateway paying as a party of its own, and an API key of `user`'s on it. */
async function gatewayFor(name: string, o: { home?: string } = {}) {
  const payer = await net.party(name, { leasesDeposit: LEASES_DEPOSIT });
  const gateway = await net.startGateway(payer.account!, { home: o.home, opts: { leaseSeconds: LEASE_SECONDS, leaseBudget: BUDGET } });
  const { key } = await createKey(gateway.url, await signIn(gateway.url, user, net.endpoints.chainId));
  return { payer, gateway, key };
}

/** One chat answer through the gateway: its lease and what it cost (the gateway's usage rows). */
async function answerOn(url: string, key: string, model: string, content: string): Promise<{ lease: Hex; text: string }> {
  const { data, response } = await openai(url, key)
    .chat.completions.create({ model, ...ask(content) })
    .withResponse();
  return { lease: response.headers.get("x-lily-lease") as Hex, text: data.choices[0]!.message.content ?? "" };
}

/** What a key's answers cost in all, as the gateway recorded them. */
async function usageCost(url: string, key: string): Promise<bigint> {
  const res = await fetch(`${url}/v1/usage`, { headers: { authorization: `Bearer ${key}` } });
  const body = (await res.json()) as { models: { cost: string }[] };
  return body.models.reduce((sum, m) => sum + BigInt(m.cost), 0n);
}

test("a restarted gateway continues its lease, and the voucher the provider holds only grows", async () => {
  const model = await net.publishModel("tiny-restart");
  const provider = await net.startProvider(await net.party("restart provider", { leasesDeposit: LEASES_DEPOSIT }), model);
  const home = join(net.dir, "restart-gateway");
  const { payer, gateway, key } = await gatewayFor("restart gateway", { home });
  const lease = (id: Hex) => leaseClient(provider.leaseUrl!).getLease({ params: { id } });

  const vouchers: bigint[] = [];
  const leases = new Set<Hex>();
  for (const q of ["one", "two"]) {
    const a = await answerOn(gateway.url, key, model.ref, q);
    leases.add(a.lease);
    vouchers.push((await lease(a.lease)).paid);
  }
  const before = await usageCost(gateway.url, key);

  await gateway.close();
  const again = await net.startGateway(payer.account!, { home, opts: { leaseSeconds: LEASE_SECONDS, leaseBudget: BUDGET } });
  for (const q of ["three", "four"]) {
    const a = await answerOn(again.url, key, model.ref, q);
    leases.add(a.lease);
    vouchers.push((await lease(a.lease)).paid);
  }

  assert.equal(leases.size, 1, "every answer, before and after the restart, is served under the one lease");
  for (let i = 1; i < vouchers.length; i++)
    assert.ok(vouchers[i]! > vouchers[i - 1]!, `voucher ${i} (${vouchers[i]}) is above the one before (${vouchers[i - 1]})`);
  const [id] = leases;
  const status = await lease(id!);
  assert.equal(status.requests, 4n, "the provider counted four answers");
  assert.equal(status.paid, status.owed, "every answer the provider gave is paid for");
  assert.equal(status.paid, await usageCost(again.url, key), "the voucher is what the gateway recorded the answers cost, across the restart");
  assert.ok(before > 0n && status.paid > before);
});

test("an honest provider that closes in time is paid the answers' cost less the royalty, and the payer gets the rest", async () => {
  const model = await net.publishModel("tiny-honest", 1000);
  const providerParty = await net.party("honest provider", { leasesDeposit: LEASES_DEPOSIT });
  const provider = await net.startProvider(providerParty, model);
  const { payer, gateway, key } = await gatewayFor("honest gateway");
  const ledger = () => Promise.all([payer, providerParty, model.creator].map((p) => net.leasesEscrow(p)));
  const [payer0, provider0, creator0] = await ledger();

  let id: Hex | undefined;
  for (const q of ["a question", "another question", "a third"]) id = (await answerOn(gateway.url, key, model.ref, q)).lease;
  const streamed = await openai(gateway.url, key).completions.create({
    model: model.ref,
    prompt: "Once upon a time",
    max_tokens: 9,
    temperature: 0,
    stream: true,
  });
  for await (const _ of streamed) {
    // read to the end: the answer is paid once its receipt arrives
  }
  const cost = await usageCost(gateway.url, key);
  assert.ok(cost > 0n);
  assert.equal((await leaseClient(provider.leaseUrl!).getLease({ params: { id: id! } })).paid, cost);

  // Service ends: the provider closes the lease with the latest voucher, inside its claim window.
  const terms = (await leaseClient(provider.leaseUrl!).getLease({ params: { id: id! } })).lease;
  await net.advance(Number(terms.expiresAt) - Math.floor(net.nowMs() / 1000) + 10);
  await eventually("the provider closes the lease", async () => ((await leaseRecord(net.deployer, { leaseId: id! })).state === "closed" ? true : undefined));

  const [payer1, provider1, creator1] = await ledger();
  const royalty = (cost * 1000n) / 10_000n;
  assert.equal(provider1 - provider0, cost - royalty, "the provider is paid the answers' cost less the royalty (its collateral back besides)");
  assert.equal(creator1 - creator0, royalty, "the model's creator is paid its royalty");
  assert.equal(payer0 - payer1, cost, "the payer paid exactly the answers' cost: the rest of its budget is back");
});

test("a lease whose provider goes silent is reclaimed after expiry and the claim window: the payer's whole budget returns", async () => {
  const model = await net.publishModel("tiny-silent");
  const provider = await net.startProvider(await net.party("silent provider", { leasesDeposit: LEASES_DEPOSIT }), model);
  const { payer, gateway, key } = await gatewayFor("silent gateway");
  const escrow0 = await net.leasesEscrow(payer);

  const { lease: id } = await answerOn(gateway.url, key, model.ref, "hello");
  assert.ok((await usageCost(gateway.url, key)) > 0n, "the answer was paid by voucher");
  assert.equal(await net.leasesEscrow(payer), escrow0 - BUDGET, "the budget is locked in the lease");
  const { expiresAt } = (await leaseClient(provider.leaseUrl!).getLease({ params: { id } })).lease;
  await provider.close();

  const { claimWindowSeconds } = await leaseWindows(net.deployer);
  assert.equal(claimWindowSeconds, CLAIM_WINDOW_SECONDS);
  await net.advance(Number(expiresAt) + claimWindowSeconds - Math.floor(net.nowMs() / 1000) + 5);
  await eventually("the gateway reclaims the lease", async () => ((await leaseRecord(net.deployer, { leaseId: id })).state === "expired" ? true : undefined));
  assert.equal(await net.leasesEscrow(payer), escrow0, "the whole budget is back in the payer's leases escrow, the paid answer included");
});

test("when its lease is busy the gateway leases another provider of the model too, and requests spread over both", async () => {
  const model = await net.publishModel("tiny-spread");
  for (const n of ["spread provider a", "spread provider b"]) await net.startProvider(await net.party(n, { leasesDeposit: LEASES_DEPOSIT }), model);
  const { gateway, key } = await gatewayFor("spread gateway");
  const client = openai(gateway.url, key);
  const providers = new Set<string>();
  // Bursts of four at once keep a lease busy; the second provider is leased in the background.
  await eventually("answers from both providers", async () => {
    const answers = await Promise.all(
      Array.from({ length: 4 }, (_, i) => client.chat.completions.create({ model: model.ref, ...ask(`burst ${i}`) }).withResponse()),
    );
    for (const a of answers) providers.add(a.response.headers.get("x-lily-provider")!.toLowerCase());
    return providers.size === 2 ? true : undefined;
  });
  assert.equal(providers.size, 2);
});
