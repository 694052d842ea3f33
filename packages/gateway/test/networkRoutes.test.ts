// The network's public pages on a real network: a provider running deals, a gateway paying for a
// user's cowsay job. Malformed addresses, CIDs and limits are refused naming the field; after the
// job settles, its deal is in /v1/network/deals (by provider and by module, with its transactions
// and gas), the provider's earnings grew by what the chain paid it, and the network view lists it.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { parseEther, type Address } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { escrowBalance } from "@lily/chain";
import type { RunningGateway } from "../src/index.ts";
import { call, createKey, eventually, signIn, startGatewayNetwork, type GatewayNetwork } from "./network.ts";

const alice = privateKeyToAccount(`0x${"a3".repeat(32)}`);

let net: GatewayNetwork;
let gateway: RunningGateway;
let provider: Address;
let aliceKey: string;

interface DealRow {
  id: string;
  module: string | null;
  provider: string;
  jobCreator: string;
  price: string;
  state: string;
  openedAt: number;
  openTx: string;
  settledTx?: string;
  gasUsed: string;
}
interface ProviderView {
  online: boolean;
  earned: string;
  earnings: { time: number; earned: string; amount: string; kind: string; id: string }[];
  jobs: Record<string, number>;
  capacity: { offered: { cpu: number }; inUse: { cpu: number } };
  slashes: unknown[];
}

before(async () => {
  net = await startGatewayNetwork("network", { solver: { sweepIntervalMs: 200 } });
  const providerClient = await net.party("network provider", { deposit: parseEther("10") });
  provider = providerClient.account!.address;
  await net.startProvider(providerClient, undefined);
  const payer = await net.party("network gateway", { deposit: parseEther("10") });
  gateway = await net.startGateway(payer.account!);
  aliceKey = (await createKey(gateway.url, await signIn(gateway.url, alice, net.endpoints.chainId))).key;
});
after(() => net?.stop());

const get = <T>(path: string) => call<T>(gateway.url, "GET", path);

test("malformed addresses, CIDs and limits are a 400 naming the field", async () => {
  const cases: [string, string][] = [
    ["/v1/providers/0x1234", "address"],
    ["/v1/providers/not-an-address", "address"],
    ["/v1/network/deals?provider=0xzz", "provider"],
    ["/v1/network/deals?module=bafy-not-a-cid", "module"],
    ["/v1/network/deals?limit=0", "limit"],
    ["/v1/network/deals?limit=101", "limit"],
    ["/v1/network/deals?limit=ten", "limit"],
    ["/v1/network?limit=-1", "limit"],
    ["/v1/providers/0x0000000000000000000000000000000000000001?limit=1e9", "limit"],
  ];
  for (const [path, field] of cases) {
    const res = await get<{ error: { param: string; code: string } }>(path);
    assert.equal(res.status, 400, `${path} is refused`);
    assert.equal(res.body.error.param, field, `${path} names ${field}`);
  }
});

test("the pages are read-only: a POST is a 405", async () => {
  for (const path of ["/v1/network", "/v1/network/deals", `/v1/providers/${provider}`]) {
    const res = await call(gateway.url, "POST", path, undefined, {});
    assert.equal(res.status, 405, path);
  }
});

test("a provider nobody has heard of has an empty dashboard, not an error", async () => {
  const res = await get<ProviderView>("/v1/providers/0x00000000000000000000000000000000000000aa");
  assert.equal(res.status, 200);
  assert.equal(res.body.online, false);
  assert.equal(res.body.earned, "0");
  assert.deepEqual(res.body.earnings, []);
});

test("after a job settles, its deal is listed with its module and transactions, and the provider's earnings grew by what it was paid", async () => {
  const before = await get<ProviderView>(`/v1/providers/${provider}`);
  assert.equal(before.status, 200);
  assert.equal(before.body.online, true, "a provider with an open offer is online");
  assert.ok(before.body.capacity.offered.cpu > 0, "its offer's capacity is shown");
  const escrowBefore = await escrowBalance(net.deployer, { account: provider });

  const cowsay = (await get<{ entries: { name: string; cid: string }[] }>("/v1/catalog")).body.entries.find((e) => e.name === "cowsay")!;
  const posted = await call<{ id: string }>(gateway.url, "POST", "/v1/jobs", aliceKey, {
    module: "cowsay@1.0.0",
    inputs: { message: "moo for the network page" },
    max_price: parseEther("2").toString(),
  });
  assert.equal(posted.status, 201, JSON.stringify(posted.body));
  const job = await eventually(
    "the job completes",
    async () => {
      const v = (await call<{ stage: string; deal: string | null }>(gateway.url, "GET", `/v1/jobs/${posted.body.id}`, aliceKey)).body;
      return v.stage === "completed" ? v : undefined;
    },
    120_000,
  );
  assert.ok(job.deal, "the job names its deal");

  const byProvider = await eventually("the deal is listed as settled", async () => {
    const { body } = await get<{ deals: DealRow[] }>(`/v1/network/deals?provider=${provider}&limit=5`);
    const row = body.deals.find((d) => d.id === job.deal);
    return row?.state === "settled" ? row : undefined;
  });
  assert.equal(byProvider.module, cowsay.cid, "the module comes from the solver, checked against the deal's job offer digest");
  assert.equal(byProvider.provider, provider);
  assert.match(byProvider.openTx, /^0x[0-9a-f]{64}$/);
  assert.match(byProvider.settledTx ?? "", /^0x[0-9a-f]{64}$/);
  assert.ok(BigInt(byProvider.gasUsed) > 21_000n, "the deal's gas is the sum of its transactions'");

  const byModule = (await get<{ deals: DealRow[] }>(`/v1/network/deals?module=${cowsay.cid}&limit=10`)).body.deals;
  assert.ok(
    byModule.some((d) => d.id === job.deal),
    "listed under its module",
  );
  assert.ok(
    byModule.every((d) => d.module === cowsay.cid),
    "and only the module's deals",
  );
  const limited = (await get<{ deals: DealRow[] }>("/v1/network/deals?limit=1")).body.deals;
  assert.equal(limited.length, 1, "limit bounds the list");

  const afterView = (await get<ProviderView>(`/v1/providers/${provider}`)).body;
  const escrowAfter = await escrowBalance(net.deployer, { account: provider });
  const earnedNow = BigInt(afterView.earned) - BigInt(before.body.earned);
  assert.ok(earnedNow > 0n, "the provider's earnings moved");
  const last = afterView.earnings.at(-1)!;
  assert.equal(last.id, job.deal, "the newest point of the series is this deal's settlement");
  assert.equal(BigInt(last.earned), BigInt(afterView.earned), "the series is cumulative");
  // The provider's escrow grew by exactly what it was paid (its collateral came back whole): the
  // dashboard reports the chain's own number.
  assert.equal(escrowAfter - escrowBefore, BigInt(last.amount), "the chain paid what the dashboard says");
  assert.ok(afterView.jobs.settled >= 1);
  assert.equal(afterView.capacity.inUse.cpu, 0, "nothing runs once the deal settled");

  const network = (
    await get<{ providers: { address: string; online: boolean; deals: number }[]; deals: DealRow[]; gas: { gasUsed: string; transactions: number } }>(
      "/v1/network",
    )
  ).body;
  const listed = network.providers.find((p) => p.address === provider);
  assert.ok(listed?.online, "the network lists the provider as online");
  assert.ok(
    network.deals.some((d) => d.id === job.deal),
    "and the deal among the recent ones",
  );
  assert.ok(BigInt(network.gas.gasUsed) >= BigInt(byProvider.gasUsed), "the network's gas includes the deal's");
  assert.ok(network.gas.transactions >= 2);
});
