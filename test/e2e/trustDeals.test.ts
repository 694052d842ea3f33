// Trust deals on LilyTrustDeals end to end: `lily devnet --trust-deals` names the contract in
// network.json, and every role routes trust deals there (signed as TrustDeal, opened in batches by
// the provider, settled in batches by it, no storage per deal). A job through `lily run` and many
// jobs at once from many job creators: each completes once with its own output, nothing touches
// LilyDeals, and the trust escrow balances to the wei (the job creators paid exactly what the
// providers and the module creators received; nothing stays locked). The studio's network page
// shows each trust deal's batch and its share of the gas its batched transactions used.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { parseEther, type Address, type Hex } from "viem";
import {
  addressesOf,
  createLilyClient,
  dealState,
  escrowBalance,
  lilyTrustDealsAbi,
  routedDealRecord,
  totalLocked,
  trustDealEvents,
  type LilyClient,
  type RoutedDeal,
} from "@lily/chain";
import { Deal, parse } from "@lily/protocol";
import { fundJobCreators, type FundedJobCreator } from "./jobCreators.ts";
import { lily, startDevnet, until, type Devnet } from "./lilyProcess.ts";
import { gatewayUrlOf, openStudioBrowser, text } from "./studioBrowser.ts";

const MAX_PRICE = parseEther("10");

let net: Devnet;
let chain: LilyClient;
let trustEscrow: Address;

before(async () => {
  net = await startDevnet(["--trust-deals", "--providers", "2", "--sign-window", "10"]);
  const addresses = addressesOf(net.network);
  chain = createLilyClient({ rpcUrl: net.network.rpcUrl, addresses });
  assert.ok(addresses.trustDeals, "network.json names LilyTrustDeals");
  trustEscrow = addresses.trustDeals;
});
after(() => net?.stop());

const settled = (d: RoutedDeal) => async () => {
  const { state } = await routedDealRecord(chain, d);
  return state === "settled" || state === "timedOut" ? state : undefined;
};

/** Each DealsOpened batch since `fromBlock`: how many deals it opened. */
async function openedBatches(fromBlock: bigint): Promise<number[]> {
  const logs = await chain.publicClient.getContractEvents({ address: trustEscrow, abi: lilyTrustDealsAbi, eventName: "DealsOpened", fromBlock });
  return logs.map((l) => l.args.leaves!.filter((leaf) => BigInt(leaf) !== 0n).length);
}

describe("a devnet with --trust-deals", () => {
  test("lily run: a trust job is signed, opened and settled on LilyTrustDeals; LilyDeals never sees it", async () => {
    const jc = net.state.jobCreator;
    const before = { trust: await escrowBalance(chain, { account: jc, escrow: trustEscrow }), deals: await escrowBalance(chain, { account: jc }) };
    const r = await lily(net.home, ["run", "cowsay@1.0.0", "-i", "message=batched trust", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { jobOfferId: Hex; dealId: Hex; deal: unknown; trustNonce: string; stdout: string; price: string };
    assert.match(out.stdout, /< batched trust >/);
    const deal = parse(Deal, out.deal, "deal");
    const routed = { dealId: out.dealId, deal, trustNonce: BigInt(out.trustNonce) };
    assert.equal(await until("settlement on LilyTrustDeals", settled(routed)), "settled");
    assert.equal(await dealState(chain, { dealId: out.dealId }), "none", "LilyDeals never opened it");
    const events = await trustDealEvents(chain, routed);
    assert.deepEqual(
      events.map((e) => e.name),
      ["DealsOpened", "DealsSettled"],
    );
    const price = BigInt(out.price);
    assert.equal(await escrowBalance(chain, { account: jc, escrow: trustEscrow }), before.trust - price, "paid the price from the trust escrow");
    assert.equal(await escrowBalance(chain, { account: jc }), before.deals, "its LilyDeals escrow is untouched");
    const show = await lily(net.home, ["jobs", "show", out.jobOfferId.slice(0, 12)]);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /DealsOpened/);
    assert.match(show.stdout, /DealsSettled/);
  });

  test("many jobs from many job creators at once: each completes once with its own output, and the trust escrow balances", async () => {
    const creators: FundedJobCreator[] = await fundJobCreators(net, 6, parseEther("40"));
    const providers = Object.entries(net.state.roles)
      .filter(([name]) => name.startsWith("provider"))
      .map(([, r]) => r.address!);
    const parties = [...creators.map((c) => c.address), ...providers];
    const read = async () => Promise.all(parties.map((a) => escrowBalance(chain, { account: a, escrow: trustEscrow })));
    const start = await chain.publicClient.getBlockNumber();
    const before = await read();
    const results = await Promise.all(
      creators.flatMap((c, i) =>
        [0, 1].map((j) =>
          c.sdk.run({ module: "cowsay@1.0.0", inputs: { message: `trust ${i}.${j}` }, maxPrice: MAX_PRICE, outDir: `${net.home}/results/trust-${i}-${j}` }),
        ),
      ),
    );
    for (const [k, r] of results.entries()) assert.match(r.stdout, new RegExp(`< trust ${Math.floor(k / 2)}\\.${k % 2} >`));
    // Every deal settles (the provider settles in batches, possibly after delivering).
    for (const r of results) {
      assert.equal(await until(`settlement of ${r.dealId}`, settled({ ...r, trustNonce: r.trustNonce })), "settled");
      assert.equal(await dealState(chain, { dealId: r.dealId }), "none");
    }
    // Each provider numbered its deals in one sequence: distinct nonces, sharing the contract's state words.
    for (const provider of new Set(results.map((r) => r.provider))) {
      const nonces = results.filter((r) => r.provider === provider).map((r) => r.trustNonce!);
      assert.equal(new Set(nonces).size, nonces.length, `provider ${provider}: one nonce per deal (${nonces.join(", ")})`);
      const words = new Set(nonces.map((n) => n >> 7n));
      assert.ok(words.size <= 2, `provider ${provider}: nonces in sequence span at most two state words of 128 (${nonces.join(", ")})`);
    }
    const batches = await openedBatches(start);
    assert.equal(
      batches.reduce((n, b) => n + b, 0),
      results.length,
      `each deal opened once (batches: ${batches.join(", ")})`,
    );
    const after = await read();
    const paid = results.reduce((s, r) => s + r.price, 0n);
    const moved = after.map((a, i) => a - before[i]!);
    const jcs = moved.slice(0, creators.length).reduce((s, m) => s + m, 0n);
    const earned = moved.slice(creators.length).reduce((s, m) => s + m, 0n);
    assert.equal(jcs, -paid, "the job creators paid exactly the prices");
    // cowsay's royalty goes to its module creator: the providers earned the rest.
    assert.ok(earned > 0n && earned <= paid, `providers earned ${earned} of ${paid}`);
    assert.equal(await totalLocked(chain, { escrow: trustEscrow }), 0n, "nothing stays locked");
  });

  test("the studio's network page shows each trust deal's batch and its share of its transactions' gas", async () => {
    interface Row {
      id: Hex;
      openTx: Hex;
      state: string;
      gasUsed: string;
      trust?: { batchNo: string; batchSize: number; gasShare: string };
    }
    const gateway = gatewayUrlOf(net);
    // The gateway reads the chain every few seconds: wait until it lists the settled trust deals.
    const deals = await until("the gateway to list settled trust deals", async () => {
      const rows = ((await (await fetch(`${gateway}/v1/network`)).json()) as { deals: Row[] }).deals.filter((d) => d.trust && d.state === "settled");
      return rows.length > 0 ? rows : undefined;
    });
    // Its batch is the chain's: the DealsOpened its opening transaction emitted opened that many deals.
    // Only that transaction's: one block can hold two providers' openings (the devnet's chain also
    // mines on a 1 s interval, which can take several pending transactions at once).
    for (const d of deals) {
      const inBlock = await chain.publicClient.getContractEvents({
        address: trustEscrow,
        abi: lilyTrustDealsAbi,
        eventName: "DealsOpened",
        blockHash: (await chain.publicClient.getTransactionReceipt({ hash: d.openTx })).blockHash,
      });
      const leaves = inBlock.filter((e) => e.transactionHash === d.openTx).flatMap((e) => e.args.leaves!);
      assert.equal(d.trust!.batchSize, leaves.filter((leaf) => BigInt(leaf) !== 0n).length, `deal ${d.id}: batch size`);
      assert.ok(BigInt(d.trust!.gasShare) <= BigInt(d.gasUsed), `deal ${d.id}: its share is at most its transactions' gas`);
      if (d.trust!.batchSize > 1) assert.ok(BigInt(d.trust!.gasShare) < BigInt(d.gasUsed), `deal ${d.id}: a batch of ${d.trust!.batchSize} shares its gas`);
    }
    const studio = await openStudioBrowser();
    try {
      const { page } = studio;
      await page.goto(`${gateway}/#/providers`);
      await page.getByRole("heading", { name: "Providers", level: 1 }).waitFor();
      const digits = (s: string) => s.replace(/[^0-9]/g, "");
      for (const d of deals) {
        const row = page.locator(`[data-testid="deal-row"][data-deal="${d.id}"]`);
        await row.waitFor();
        assert.equal(
          await text(row.getByTestId("deal-batch")),
          `trust batch ${d.trust!.batchNo} · opened with ${d.trust!.batchSize} ${d.trust!.batchSize === 1 ? "deal" : "deals"}`,
        );
        const gas = row.getByTestId("deal-gas");
        assert.equal(digits(await text(gas)), d.trust!.gasShare, `deal ${d.id}: the gas shown is its share`);
        assert.match(await text(gas), /\(share\)/);
        assert.equal(digits((await gas.getAttribute("title")) ?? ""), d.gasUsed, "the whole transactions' gas is in its title");
      }
      await studio.shot("providers-network-trust");
    } finally {
      await studio.browser.close();
    }
  });
});
