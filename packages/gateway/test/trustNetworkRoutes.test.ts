// The network's public pages on a network with LilyTrustDeals (as `lily devnet --trust-deals`), over
// HTTP: a batch of two trust deals, one settled, is listed by the gateway with its batch and its
// share of the batch's gas, and the provider's dashboard shows what the chain paid it; a trust job
// the solver matched is listed with its module, which the solver's record gives and the chain's
// TrustDeal binds.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { parseEther } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { openTrustDeals, settleTrustDeals, trustDealId, trustTermsOf, type LilyClient } from "@lily/chain";
import type { RunningGateway } from "../src/index.ts";
import { call, createKey, eventually, signIn, startGatewayNetwork, type GatewayNetwork } from "./network.ts";
import { signedTrustDeal } from "./trustDeal.ts";

const PRICE = parseEther("1");
const COLLATERAL = parseEther("2");
const ROYALTY_BPS = 250;

let net: GatewayNetwork;
let gateway: RunningGateway;
let jobCreator: LilyClient;
let provider: LilyClient;

interface DealRow {
  id: string;
  state: string;
  provider: string;
  module: string | null;
  gasUsed: string;
  trust?: { batchNo: string; nonce: string; batchSize: number; gasShare: string };
}

before(async () => {
  net = await startGatewayNetwork("trust-network", { trustDeals: true });
  jobCreator = await net.party("trust page job creator", { trustDeposit: parseEther("10") });
  provider = await net.party("trust page provider", { trustDeposit: parseEther("10") });
  gateway = await net.startGateway((await net.party("trust page gateway")).account!);
});
after(() => net?.stop());

const get = <T>(path: string) => call<T>(gateway.url, "GET", path);

test("a settled trust deal is listed with its batch, and the provider's dashboard shows what it earned", async () => {
  const moduleCreator = (await net.party("trust page module creator")).account!.address;
  const terms = (nonce: bigint) => ({ nonce, price: PRICE, collateral: COLLATERAL, deadlineIn: 3600n, moduleCreator, royaltyBps: ROYALTY_BPS });
  const [a, b] = await Promise.all([1n, 2n].map((n) => signedTrustDeal(net.addresses, jobCreator, provider, terms(n))));
  const opened = await openTrustDeals(jobCreator, { deals: [a!, b!] });
  const settled = await settleTrustDeals(provider, { batchNo: opened.batchNo, leaves: opened.leaves, deals: [trustTermsOf(a!.deal)] });
  const address = provider.account!.address;
  const settledId = trustDealId(net.addresses, a!.deal);

  const rows = await eventually("the settled trust deal is listed", async () => {
    const { body } = await get<{ deals: DealRow[] }>(`/v1/network/deals?provider=${address}&limit=10`);
    return body.deals.find((d) => d.id === settledId)?.state === "settled" ? body.deals : undefined;
  });
  assert.deepEqual(
    rows.map((r) => [r.id, r.state]).sort(),
    [
      [settledId, "settled"],
      [trustDealId(net.addresses, b!.deal), "open"],
    ].sort(),
  );
  const row = rows.find((r) => r.id === settledId)!;
  assert.equal(row.gasUsed, (opened.gasUsed + settled.gasUsed).toString());
  assert.deepEqual(row.trust, {
    batchNo: opened.batchNo.toString(),
    nonce: "1",
    batchSize: 2,
    gasShare: (opened.gasUsed / 2n + settled.gasUsed).toString(),
  });

  const dashboard = (await get<{ earned: string; jobs: Record<string, number>; online: boolean }>(`/v1/providers/${address}`)).body;
  assert.equal(dashboard.earned, (PRICE - (PRICE * BigInt(ROYALTY_BPS)) / 10_000n).toString(), "the price less the module creator's royalty");
  assert.deepEqual([dashboard.jobs.total, dashboard.jobs.open, dashboard.jobs.settled], [2, 1, 1]);
  assert.equal(dashboard.online, true, "seen on chain just now");
  const network = (await get<{ totals: { deals: number; unreadTrustDeals?: number } }>("/v1/network")).body;
  assert.deepEqual([network.totals.deals, network.totals.unreadTrustDeals], [2, 0]);
});

test("a trust job the solver matched is listed with its module, read from the solver's record of the deal by its leaf", async () => {
  const runner = await net.party("trust page runner", { trustDeposit: parseEther("10") });
  await net.startProvider(runner, undefined);
  // The gateway pays for the jobs it posts: from LilyTrustDeals' escrow, on this network.
  await net.party("trust page gateway", { trustDeposit: parseEther("10") });
  const alice = privateKeyToAccount(`0x${"a4".repeat(32)}`);
  const aliceKey = (await createKey(gateway.url, await signIn(gateway.url, alice, net.endpoints.chainId))).key;
  const cowsay = (await get<{ entries: { name: string; cid: string }[] }>("/v1/catalog")).body.entries.find((e) => e.name === "cowsay")!;
  const posted = await call<{ id: string }>(gateway.url, "POST", "/v1/jobs", aliceKey, {
    module: "cowsay@1.0.0",
    inputs: { message: "moo in trust" },
    max_price: parseEther("2").toString(),
  });
  assert.equal(posted.status, 201, JSON.stringify(posted.body));
  await eventually(
    "the trust job completes",
    async () => ((await call<{ stage: string }>(gateway.url, "GET", `/v1/jobs/${posted.body.id}`, aliceKey)).body.stage === "completed" ? true : undefined),
    120_000,
  );
  const row = await eventually("the runner's trust deal is listed as settled", async () => {
    const { body } = await get<{ deals: DealRow[] }>(`/v1/network/deals?provider=${runner.account!.address}&limit=5`);
    return body.deals.find((d) => d.state === "settled");
  });
  assert.ok(row.trust, "a trust deal, on LilyTrustDeals");
  assert.equal(row.module, cowsay.cid, "its module, from the solver's record, checked against the TrustDeal the chain opened");
  const byModule = (await get<{ deals: DealRow[] }>(`/v1/network/deals?module=${cowsay.cid}&limit=10`)).body.deals;
  assert.ok(
    byModule.some((d) => d.id === row.id),
    "listed under its module",
  );
});
