// The network page on a network with LilyTrustDeals: a batch of three trust deals (one skipped for
// a reused nonce) is read as two deals, by their TrustDeal ids, from the opening transaction's
// calldata (read once); settling one pays the provider what the chain paid it, timing out the
// other slashes its collateral, and each batch transaction's gas is kept once with its batch
// size. A reader of the same chain that is not told of LilyTrustDeals sees none of it; deals
// opened through another contract (a wallet) are counted as unread.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { encodeFunctionData, keccak256, parseAbi, parseEther, toHex, type Address, type Hash } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { escrowBalance, lilyTrustDealsAbi, openTrustDeals, settleTrustDeals, timeOutTrustDeals, trustDealId, trustTermsOf, type LilyClient } from "@lily/chain";
import { startTrustChain, type TrustChain } from "../../chain/test/trustChain.ts";
import { deployWallet } from "../../chain/test/wallet.ts";
import { createChainActivity, type ActivitySnapshot, type ChainActivity } from "../src/network/chainActivity.ts";
import { dealRow, networkView, newestDeals, providerView } from "../src/network/views.ts";
import { signedTrustDeal } from "./trustDeal.ts";

// A price and royalty whose royalty does not divide evenly, so the rounding is the chain's.
const PRICE = parseEther("1") + 7n;
const ROYALTY_BPS = 333;
const COLLATERAL = parseEther("2");
const NO_OFFERS = { resource: [], model: [] };
/** contracts/test/ERC1271Wallet.sol's call forwarding, as its owner uses it. */
const walletAbi = parseAbi(["function execute(address target, bytes data)"]);
const moduleCreator = privateKeyToAccount(keccak256(toHex("trust activity module creator"))).address;

let chain: TrustChain;
let jobCreator: LilyClient;
let provider: LilyClient;
let providerAddress: Address;

before(async () => {
  chain = await startTrustChain();
  [jobCreator, provider] = chain.accounts;
  providerAddress = provider.account!.address;
  for (const party of [jobCreator, provider]) await chain.fundTrustEscrow(party, parseEther("100"));
});
after(() => chain?.anvil.stop());

/** A reader of `client`'s chain that counts the transactions it fetches. */
function countingReader(client: LilyClient): { activity: ChainActivity; txReads: () => number } {
  let reads = 0;
  const publicClient = new Proxy(client.publicClient, {
    get(target, prop, receiver) {
      if (prop === "getTransaction") {
        return (args: { hash: Hash }) => {
          reads++;
          return target.getTransaction(args);
        };
      }
      return Reflect.get(target, prop, receiver);
    },
  });
  return { activity: createChainActivity({ ...client, publicClient }, { refreshMs: 0 }), txReads: () => reads };
}

const signed = (nonce: bigint, deadlineIn: bigint, price = PRICE) =>
  signedTrustDeal(chain.addresses, jobCreator, provider, { nonce, deadlineIn, price, collateral: COLLATERAL, moduleCreator, royaltyBps: ROYALTY_BPS });

async function advance(seconds: number): Promise<void> {
  await chain.deployer.publicClient.request({ method: "evm_increaseTime", params: [toHex(seconds)] } as never);
  await chain.deployer.publicClient.request({ method: "evm_mine", params: [] } as never);
}

const blockTime = async (hash: Hash) =>
  Number(
    (await chain.deployer.publicClient.getBlock({ blockNumber: (await chain.deployer.publicClient.getTransactionReceipt({ hash })).blockNumber })).timestamp,
  );
const gasOf = async (hash: Hash) => (await chain.deployer.publicClient.getTransactionReceipt({ hash })).gasUsed;
const trustEscrow = (who: LilyClient) => escrowBalance(chain.deployer, { account: who.account!.address, escrow: chain.addresses.trustDeals! });
const txsOf = (snap: ActivitySnapshot) => new Set(snap.gas.keys());

test("a trust batch's deals, how they ended, what the provider earned and lost, and the batch's gas are on the network page", async () => {
  const trusting = countingReader(jobCreator);
  const blind = countingReader({ ...jobCreator, addresses: { ...chain.addresses, trustDeals: undefined } });
  // Both read once before anything happens: what follows is read incrementally.
  const blindBefore = txsOf(await blind.activity.snapshot());
  assert.equal((await trusting.activity.snapshot()).deals.size, 0);

  const toSettle = await signed(1n, 3600n);
  const toTimeOut = await signed(2n, 100n);
  const reused = await signed(1n, 3600n, PRICE + 1n); // nonce 1 again: skipped
  const opened = await openTrustDeals(jobCreator, { deals: [toSettle, toTimeOut, reused] });
  assert.deepEqual(
    opened.skipped.map((s) => [s.index, s.reason]),
    [[2, "TrustNonceUsed"]],
  );

  const afterOpen = await trusting.activity.snapshot();
  const settleId = trustDealId(chain.addresses, toSettle.deal);
  const timeOutId = trustDealId(chain.addresses, toTimeOut.deal);
  assert.deepEqual([...afterOpen.deals.keys()].sort(), [settleId, timeOutId].sort(), "the two opened deals, by their TrustDeal ids; not the skipped one");
  for (const d of afterOpen.deals.values()) {
    assert.equal(d.state, "open");
    assert.equal(d.openTx, opened.txHash);
    assert.equal(d.provider, providerAddress);
    assert.equal(d.jobCreator, jobCreator.account!.address);
    assert.equal(d.trust?.batchNo, opened.batchNo);
  }
  assert.equal(afterOpen.gas.get(opened.txHash)?.deals, 2, "the opening transaction's gas is shared by the two deals it opened");
  assert.equal(afterOpen.unreadTrustDeals, 0);

  const escrowBefore = await trustEscrow(provider);
  const settled = await settleTrustDeals(provider, { batchNo: opened.batchNo, leaves: opened.leaves, deals: [trustTermsOf(toSettle.deal)] });
  const paidByChain = (await trustEscrow(provider)) - escrowBefore - COLLATERAL;
  await advance(200);
  const timedOut = await timeOutTrustDeals(jobCreator, {
    batchNo: opened.batchNo,
    leaves: opened.leaves,
    provider: providerAddress,
    deals: [trustTermsOf(toTimeOut.deal)],
  });
  assert.deepEqual([settled.settled, timedOut.timedOut], [[1n], [2n]]);

  const snap = await trusting.activity.snapshot();
  assert.equal(trusting.txReads(), 1, "the opening transaction's calldata is read once, over three incremental reads");
  const a = snap.deals.get(settleId)!;
  const b = snap.deals.get(timeOutId)!;
  assert.deepEqual([a.state, a.endTx, a.paid, a.txs], ["settled", settled.txHash, paidByChain, [opened.txHash, settled.txHash]]);
  assert.deepEqual([b.state, b.endTx, b.paid, b.txs], ["timedOut", timedOut.txHash, undefined, [opened.txHash, timedOut.txHash]]);
  assert.deepEqual(
    snap.earnings.map((e) => [e.provider, e.amount, e.kind, e.id, e.tx]),
    [[providerAddress, paidByChain, "deal", settleId, settled.txHash]],
    "the provider earned what the chain paid it (the price less the royalty, rounded as the chain rounds)",
  );
  assert.deepEqual(
    snap.slashes.map((s) => [s.provider, s.amount, s.reason, s.id, s.tx]),
    [[providerAddress, COLLATERAL, "timedOut", timeOutId, timedOut.txHash]],
  );
  assert.equal(snap.lastSeen.get(providerAddress), await blockTime(timedOut.txHash), "the provider was last seen at its timeout");

  const [openGas, settleGas, timeOutGas] = await Promise.all([opened.txHash, settled.txHash, timedOut.txHash].map(gasOf));
  assert.deepEqual(
    [opened.txHash, settled.txHash, timedOut.txHash].map((h) => [snap.gas.get(h)?.gasUsed, snap.gas.get(h)?.deals]),
    [
      [openGas, 2],
      [settleGas, 1],
      [timeOutGas, 1],
    ],
  );

  // The pages, as the gateway serves them.
  const rows = newestDeals(snap).map((d) => dealRow(snap, d, undefined));
  const row = rows.find((r) => r.id === settleId)!;
  assert.equal(row.gasUsed, (openGas + settleGas).toString(), "a deal's gas counts each of its transactions whole");
  assert.deepEqual(row.trust, { batchNo: opened.batchNo.toString(), nonce: "1", batchSize: 2, gasShare: (openGas / 2n + settleGas).toString() });
  const now = await blockTime(timedOut.txHash);
  const network = networkView(snap, NO_OFFERS, rows, now, 10);
  assert.equal(network.totals.deals, 2);
  assert.equal(network.totals.unreadTrustDeals, 0);
  const listed = network.providers.find((p) => p.address === providerAddress);
  assert.deepEqual([listed?.deals, listed?.activeDeals, listed?.earned, listed?.online], [2, 0, paidByChain.toString(), true]);
  for (const h of [opened.txHash, settled.txHash, timedOut.txHash]) assert.ok(snap.gas.has(h), "the network's gas counts each batch transaction once");
  const dashboard = providerView(providerAddress, snap, NO_OFFERS, rows, [], now);
  assert.deepEqual([dashboard.jobs.total, dashboard.jobs.settled, dashboard.jobs.timedOut], [2, 1, 1]);
  assert.deepEqual([dashboard.earned, dashboard.slashed], [paidByChain.toString(), COLLATERAL.toString()]);

  // A network without LilyTrustDeals named reads as before: none of this, and no calldata.
  const blindSnap = await blind.activity.snapshot();
  assert.deepEqual([blindSnap.deals.size, blindSnap.earnings.length, blindSnap.slashes.length, blind.txReads()], [0, 0, 0, 0]);
  assert.equal("unreadTrustDeals" in blindSnap, false);
  assert.deepEqual(txsOf(blindSnap), blindBefore, "no LilyTrustDeals transaction's gas is counted");
  assert.equal("unreadTrustDeals" in networkView(blindSnap, NO_OFFERS, [], now, 10).totals, false);
});

test("deals opened through another contract are counted as unread, not guessed: that calldata is not openDeals'", async () => {
  const { activity, txReads } = countingReader(jobCreator);
  const before = await activity.snapshot();
  const owner = jobCreator.account!;
  const wallet = await deployWallet(
    { anvil: chain.anvil, addresses: chain.addresses, deployer: chain.deployer, depositors: [] },
    owner,
    chain.addresses.trustDeals,
  );
  const { deal, jobCreatorSig, providerSig } = await signed(3n, 3600n);
  const openDeals = encodeFunctionData({ abi: lilyTrustDealsAbi, functionName: "openDeals", args: [[deal], [jobCreatorSig], [providerSig]] });
  const hash = await jobCreator.walletClient!.writeContract({
    address: wallet,
    abi: walletAbi,
    functionName: "execute",
    args: [chain.addresses.trustDeals!, openDeals],
  });
  assert.equal((await jobCreator.publicClient.waitForTransactionReceipt({ hash })).status, "success");

  const snap = await activity.snapshot();
  assert.equal(snap.unreadTrustDeals, 1, "the wallet's batch opened one deal the reader could not read");
  assert.equal(snap.deals.size, before.deals.size, "and it is not listed with made-up terms");
  assert.equal(snap.gas.get(hash)?.deals, 1, "its transaction's gas is still counted, with its batch size");
  assert.equal(txReads(), 2, "the first read's opening and the wallet's transaction, once each");
});
