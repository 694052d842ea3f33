// `lily balance`, `lily deposit --trust-escrow`, `lily withdraw --trust-escrow` and `lily jobs show`
// on a network with LilyTrustDeals (a real anvil with Lily deployed): the trust deals escrow is its
// own, shown beside the others and moved on its own; a routed trust deal's state and batch are read
// from LilyTrustDeals. On a network without it, --trust-escrow is refused before anything moves.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { keccak256, parseEther, toHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { escrowBalance, openTrustDeals, signDealFor } from "@lily/chain";
import { cidForBytes, deriveDeal, hashRecord, trustDealOf, type JobOffer, type ResourceOffer } from "@lily/protocol";
import { sqliteJournal } from "@lily/sdk";
import { startLocalNetwork, type LocalNetwork } from "../../../test/support/localNetwork.ts";
import { PLAIN_JOB_TERMS } from "../../../test/support/jobOffers.ts";
import { roleAccount } from "../src/keys.ts";
import { lilyAsync, tempHome } from "./lilyProcess.ts";

let net: LocalNetwork;
let home: string;
let jobCreator: ReturnType<typeof roleAccount>;
const provider = privateKeyToAccount(keccak256(toHex("lily cli trust escrow: provider")));

before(async () => {
  net = await startLocalNetwork("cli-trust-escrow", { trustDeals: true });
  home = tempHome();
  jobCreator = roleAccount(home, "job-creator");
  await net.fund([jobCreator, provider].map(net.clientFor), {
    eth: parseEther("1"),
    tokens: parseEther("100"),
    deposit: parseEther("50"),
    trustDeposit: parseEther("20"),
  });
  writeFileSync(join(home, "network.json"), JSON.stringify({ ...net.endpoints, modules: {} }));
});
after(() => net?.stop());

const trustEscrow = () => escrowBalance(net.deployer, { account: jobCreator.address, escrow: net.addresses.trustDeals! });
const dealsEscrow = () => escrowBalance(net.deployer, { account: jobCreator.address });

test("lily balance shows the trust deals escrow beside the deals escrow", async () => {
  const r = await lilyAsync(home, "balance");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^escrow {3}50 LILY \(free to lock in deals on LilyDeals: every policy but trust\)$/m);
  assert.match(r.stdout, /^trust {4}20 LILY \(free to lock in trust deals, on LilyTrustDeals\)$/m);
});

test("lily deposit and withdraw --trust-escrow move LILY into and out of LilyTrustDeals only", async () => {
  const [t0, d0] = [await trustEscrow(), await dealsEscrow()];
  const dep = await lilyAsync(home, "deposit", "5", "--trust-escrow");
  assert.equal(dep.code, 0, dep.stderr);
  assert.match(dep.stdout, /^deposited 5 LILY into the trust deals escrow/m);
  assert.deepEqual([await trustEscrow(), await dealsEscrow()], [t0 + parseEther("5"), d0]);
  const wd = await lilyAsync(home, "withdraw", "2", "--trust-escrow");
  assert.equal(wd.code, 0, wd.stderr);
  assert.match(wd.stdout, /^withdrew 2 LILY from the trust deals escrow/m);
  assert.deepEqual([await trustEscrow(), await dealsEscrow()], [t0 + parseEther("3"), d0]);
  const both = await lilyAsync(home, "deposit", "1", "--trust-escrow", "--lease-escrow");
  assert.notEqual(both.code, 0);
  assert.match(both.stderr, /--trust-escrow and --lease-escrow/);
});

test("lily deposit --trust-escrow on a network without LilyTrustDeals is refused, naming the flag, and moves nothing", async () => {
  const other = tempHome();
  const key = roleAccount(other, "job-creator");
  await net.fund([net.clientFor(key)], { eth: parseEther("1"), tokens: parseEther("10") });
  const { trustDeals: _none, ...endpoints } = net.endpoints;
  writeFileSync(join(other, "network.json"), JSON.stringify({ ...endpoints, modules: {} }));
  const r = await lilyAsync(other, "deposit", "1", "--trust-escrow");
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /--trust-escrow: this network has no LilyTrustDeals contract/);
  assert.equal(await escrowBalance(net.deployer, { account: key.address }), 0n);
});

test("lily jobs show reads a routed trust deal's state and opening batch from LilyTrustDeals", async () => {
  const now = BigInt(Math.floor(Date.now() / 1000));
  const offer: JobOffer = {
    ...PLAIN_JOB_TERMS,
    jobCreator: jobCreator.address,
    module: cidForBytes(new TextEncoder().encode("trust escrow module")),
    inputs: cidForBytes(new TextEncoder().encode("trust escrow inputs")),
    cpu: 1,
    memoryMb: 64,
    maxPrice: parseEther("2"),
    timeoutSeconds: 600n,
    expiresAt: now + 3600n,
    nonce: 7n,
  };
  const resource: ResourceOffer = {
    provider: provider.address,
    cpu: 4,
    memoryMb: 4096,
    gpu: 0,
    vramMb: 0,
    price: parseEther("2"),
    collateral: parseEther("1"),
    modules: [offer.module],
    mediators: [],
    expiresAt: now + 3600n,
    nonce: 1n,
  };
  const job = { id: hashRecord(net.domain, "JobOffer", offer), offer };
  const deal = deriveDeal(job, { id: hashRecord(net.domain, "ResourceOffer", resource), offer: resource }, { openBy: now + 600n });
  const dealId = hashRecord(net.domain, "Deal", deal);
  // The nonce the provider picked (as a fresh provider database starts its sequence): `jobs show` must find the deal by it.
  const trustNonce = now << 20n;
  const jobCreatorSig = await signDealFor(jobCreator, net.addresses, { dealId, deal, trustNonce });
  await openTrustDeals(net.clientFor(provider), { deals: [{ deal: trustDealOf(deal, trustNonce), jobCreatorSig, providerSig: "0x" }] });
  mkdirSync(join(home, "data", "job-creator"), { recursive: true });
  const journal = sqliteJournal(join(home, "data", "job-creator", "jobs.db"));
  journal.put({ jobOfferId: job.id, module: "cowsay@1.0.0", offer, signature: "0x11", dealId, deal, trustNonce, stage: "opened", createdAt: Date.now() });
  journal.close();
  const r = await lilyAsync(home, "jobs", "show", job.id.slice(0, 20));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^on chain {3}open \(LilyTrustDeals\)$/m);
  assert.match(r.stdout, /^ {2}DealsOpened +tx 0x[0-9a-f]{10}… {2}gas \d+ for 1 deal\(s\)/m);
});
