// The twin-nonce attack on a job creator, against a real chain with LilyTrustDeals, store and
// solver. The contract keeps one state per (provider, nonce) and the provider picks the nonce: a
// provider signs our deal and another job creator's under one nonce, opens and settles the other
// one. Our deal must never pass for opened or settled (nothing of ours is locked or paid): past its
// openBy and the log-lag grace it lapses, and the job is matched again, never failed or refunded.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { keccak256, parseEther, toHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { locateTrustDeal, openTrustDeals, settleTrustDeals, signDealFor, trustDealState, trustTermsOf } from "@lily/chain";
import { deriveDeal, hashRecord, trustDealOf, type JobOffer } from "@lily/protocol";
import { DEPOSIT, PRICE, eventually, startNetwork, type Network } from "./network.ts";
import type { JobStage, Progress } from "../src/index.ts";
import { LOG_LAG_GRACE_SECONDS } from "../src/routedDeal.ts";
import { tempDir } from "../../../test/support/tempDir.ts";

let net: Network;
before(async () => {
  net = await startNetwork({}, { trustDeals: true });
  for (const p of net.providers) await p.offer();
});
after(() => net.stop());

/** Move the chain's clock (anvil's own JSON-RPC): the lapse waits on chain time, a minute past openBy. */
async function increaseTime(seconds: bigint): Promise<void> {
  for (const [method, params] of [
    ["evm_increaseTime", [toHex(seconds)]],
    ["evm_mine", []],
  ] as const) {
    const r = await fetch(net.anvil.rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    });
    const body = (await r.json()) as { error?: unknown };
    if (body.error) throw new Error(`${method}: ${JSON.stringify(body.error)}`);
  }
}
const chainNow = async () => (await net.deployer.publicClient.getBlock()).timestamp;

test("a provider opens and settles another job creator's deal under the nonce it signed ours with: ours never passes for opened or settled, and lapses", async (t) => {
  const other = privateKeyToAccount(keccak256(toHex("lily sdk twin nonce: another job creator")));
  await net.fund([net.clientFor(other)], { eth: parseEther("1"), tokens: DEPOSIT, deposit: DEPOSIT });
  const [b0, t0] = [await net.balances(), await net.trustBalances()];

  const job = await net.jc.submitJob({ module: "cowsay@1.0.0", inputs: { message: "twin" }, maxPrice: PRICE, mediationFee: parseEther("1") });
  // Every stage the journal is given for this job, and every progress event: the deal must never be reported opened.
  const stages: JobStage[] = [];
  const put = net.journal.put.bind(net.journal);
  net.journal.put = (e) => {
    if (e.jobOfferId === job.jobOfferId) stages.push(e.stage);
    put(e);
  };
  t.after(() => {
    net.journal.put = put;
  });
  const events: Progress[] = [];
  const stop = new AbortController();
  t.after(() => stop.abort());
  let ended: unknown;
  const result = net.jc.waitForResult({
    jobOfferId: job.jobOfferId,
    outDir: tempDir("lily-sdk-twin-out-"),
    signal: stop.signal,
    onProgress: (p) => events.push(p),
  });
  result.then(
    (r) => (ended = r),
    (e: unknown) => (ended = e),
  );

  const proposal = await eventually(async () => {
    const { dealIds } = await net.solver.getJobOffer({ params: { id: job.jobOfferId } });
    return dealIds[0] && net.solver.getDeal({ params: { id: dealIds[0] } });
  });
  const provider = net.providerOf(proposal.deal.provider);
  const nonce = provider.nonceFor(proposal)!;

  // The twin: the other job creator's deal with this provider, same resource offer and money
  // terms, signed by both under the nonce our deal is about to be signed with, opened first.
  const theirOffer: JobOffer = { ...net.journal.get(job.jobOfferId)!.offer, jobCreator: other.address };
  const theirJob = { id: hashRecord(net.domain, "JobOffer", theirOffer), offer: theirOffer };
  const resource = await net.solver.getResourceOffer({ params: { id: proposal.deal.resourceOffer } });
  const twinDeal = deriveDeal(theirJob, resource, { openBy: (await chainNow()) + 600n });
  const twin = { dealId: hashRecord(net.domain, "Deal", twinDeal), deal: twinDeal, trustNonce: nonce };
  const theirSig = await signDealFor(other, net.addresses, twin);
  await openTrustDeals(provider.chain, { deals: [{ deal: trustDealOf(twinDeal, nonce), jobCreatorSig: theirSig, providerSig: "0x" }] });

  await provider.sign(proposal);
  const ours = await eventually(async () => (await net.solver.getDeal({ params: { id: proposal.id } })).jobCreatorSignature);
  assert.ok(ours, "the job creator signed our deal under the provider's nonce");
  assert.equal(net.journal.get(job.jobOfferId)?.trustNonce, nonce);
  const routed = { dealId: proposal.id, deal: proposal.deal, trustNonce: nonce };
  assert.equal(await trustDealState(net.deployer, { provider: proposal.deal.provider, nonce }), "open", "the nonce reads open: the twin's state");
  assert.equal(await locateTrustDeal(net.deployer, routed), undefined, "our deal's own leaf is in no opening");

  // The provider is paid for the twin: the nonce reads settled.
  const opened = await eventually(() => locateTrustDeal(net.deployer, twin));
  const settled = await settleTrustDeals(provider.chain, {
    batchNo: opened.batchNo,
    leaves: opened.leaves,
    deals: [trustTermsOf(trustDealOf(twinDeal, nonce))],
  });
  assert.equal(settled.settled.length, 1);
  assert.equal(await trustDealState(net.deployer, { provider: proposal.deal.provider, nonce }), "settled");

  // Let the job creator's loop read the twin's state for a while, past our deal's openBy.
  await eventually(async () => ((await chainNow()) > proposal.deal.openBy + 2n ? true : undefined));
  await new Promise((r) => setTimeout(r, 1_000));
  assert.equal(ended, undefined, "the wait goes on: nothing delivered, failed or refunded");
  // Past the log-lag grace (chain time), our deal lapses: the job is matched again.
  await increaseTime(LOG_LAG_GRACE_SECONDS + 5n);
  await eventually(async () => (events.some((e) => e.stage === "lapsed" && e.dealId === proposal.id) ? true : undefined));
  const entry = await eventually(async () => {
    const e = net.journal.get(job.jobOfferId);
    return e?.stage === "submitted" ? e : undefined;
  });
  assert.deepEqual([entry.dealId, entry.lapsed], [undefined, [proposal.id]], "matched again, our deal lapsed");
  assert.equal(ended, undefined, "the wait goes on, for another deal");

  const ourEvents = events.filter((e) => "dealId" in e && e.dealId === proposal.id).map((e) => e.stage);
  assert.deepEqual(ourEvents, ["matched", "signed", "lapsed"], "never opened, committed, timed out");
  assert.ok(!stages.some((s) => s === "opened" || s === "failed" || s === "refunded" || s === "completed"), `journal stages: ${stages.join(", ")}`);
  // Nothing of the job creator's was locked or paid, in either escrow.
  assert.equal((await net.trustBalances())[0], t0[0], "the job creator's trust escrow");
  assert.equal((await net.balances())[0], b0[0], "the job creator's LilyDeals escrow");
  stop.abort();
  await result.catch(() => {});
});
