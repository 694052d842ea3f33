// The job creator on a network with LilyTrustDeals, against a real chain, store and solver, with
// providers the test drives by hand: a trust job's deal is signed as its TrustDeal, its deposit
// checked in that contract's escrow, opened, settled or timed out there; a provider signature over
// the wrong form is refused. Every balance is read from the contracts and checked to the wei.
import { test, before, beforeEach, after, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { keccak256, parseEther, toHex, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { deposit, locateTrustDeal, timeOutTrustDeals, trustDealDomain, trustDealState, trustTermsOf } from "@lily/chain";
import { type LilyError, isLilyError, trustDealOf, verifyRecord } from "@lily/protocol";
import { COLLATERAL, DEPOSIT, PRICE, eventually, startNetwork, type Network } from "./network.ts";
import { createJobCreator, memoryJournal } from "../src/index.ts";
import { signProposals } from "../src/signProposals.ts";
import { SIGNED_RESULT_GRACE_SECONDS } from "../src/nextStep.ts";
import { tempDir } from "../../../test/support/tempDir.ts";

let net: Network;
before(async () => {
  net = await startNetwork({}, { trustDeals: true });
});
// Every provider posts a fresh offer before each test: one whose proposal a test left unsigned was
// excluded by the solver, as for any provider that does not sign.
beforeEach(async () => {
  for (const p of net.providers) await p.offer();
});
after(() => net.stop());

const cowsay = (message: string, o: { policy?: string; timeoutSeconds?: number } = {}) => ({
  module: "cowsay@1.0.0",
  inputs: { message },
  maxPrice: PRICE,
  mediationFee: parseEther("1"),
  ...o,
});
function follow(t: TestContext, jobOfferId: Hex) {
  const stop = new AbortController();
  t.after(() => stop.abort());
  const result = net.jc.waitForResult({ jobOfferId, outDir: tempDir("lily-sdk-trust-out-"), signal: stop.signal });
  result.catch(() => {});
  return result;
}
const rejection = (p: Promise<unknown>) =>
  p.then(
    () => assert.fail("expected a rejection"),
    (e: unknown) => e as LilyError,
  );
async function firstProposal(jobOfferId: Hex) {
  return eventually(async () => {
    const { dealIds } = await net.solver.getJobOffer({ params: { id: jobOfferId } });
    return dealIds[0] && net.solver.getDeal({ params: { id: dealIds[0] } });
  });
}
/** Balances `b0` (job creator, then each provider) moved by `delta`, keyed "jobCreator" or by provider address. */
function moved(b0: bigint[], delta: Record<string, bigint>): bigint[] {
  const keys = ["jobCreator", ...net.providers.map((p) => p.account.address)];
  return b0.map((b, i) => b + (delta[keys[i]!] ?? 0n));
}

test("a trust job: the job creator signs the TrustDeal, the provider settles on LilyTrustDeals, and the signed result is delivered", async (t) => {
  const [b0, t0] = [await net.balances(), await net.trustBalances()];
  const job = await net.jc.submitJob(cowsay("trusted"));
  const result = follow(t, job.jobOfferId);
  const proposal = await firstProposal(job.jobOfferId);
  const provider = net.providerOf(proposal.deal.provider);
  await provider.sign(proposal);
  const ours = await eventually(async () => (await net.solver.getDeal({ params: { id: proposal.id } })).jobCreatorSignature);
  const who = { signer: net.jobCreator.address, field: "jobCreatorSignature" };
  // The job creator's signature is over the routed form, under LilyTrustDeals' domain: not over the Deal.
  await verifyRecord(trustDealDomain(net.addresses), "TrustDeal", trustDealOf(proposal.id, proposal.deal), ours, who);
  await assert.rejects(verifyRecord(net.domain, "Deal", proposal.deal, ours, who), (e: unknown) => isLilyError(e, "BAD_SIGNATURE"));
  await provider.open(proposal);
  await provider.commit(proposal, "moo\n");
  const r = await result;
  assert.deepEqual([r.dealId, r.stdout, r.settlement, r.price], [proposal.id, "moo\n", "settled", proposal.deal.price]);
  const opened = await locateTrustDeal(net.deployer, { dealId: proposal.id, deal: proposal.deal });
  assert.equal(r.txs.open, opened?.txHash, "the opening batch's transaction");
  assert.ok(r.txs.commit && r.txs.commit !== r.txs.open, "the settling transaction, found from the DealsSettled event");
  assert.equal(net.journal.get(job.jobOfferId)?.stage, "completed");
  assert.ok(net.journal.get(job.jobOfferId)?.trustFromBlock !== undefined, "the journal keeps where the opening's search starts");
  assert.deepEqual(await net.balances(), b0, "LilyDeals' escrow is not touched");
  assert.deepEqual(await net.trustBalances(), moved(t0, { jobCreator: -proposal.deal.price, [proposal.deal.provider]: proposal.deal.price }));
  // REJECT: nothing on LilyTrustDeals can be challenged
  const e = await rejection(net.jc.challenge(job.jobOfferId));
  assert.deepEqual([e.code, e.field], ["INVALID_INPUT", "deal.policy"]);
});

test("a trust job's deposit is checked in the LilyTrustDeals escrow, and the refusal says how to deposit there", async () => {
  const account = privateKeyToAccount(keccak256(toHex("lily sdk trust: deals escrow only")));
  const client = net.clientFor(account);
  await net.fund([client], { eth: parseEther("1"), tokens: 2n * DEPOSIT, deposit: DEPOSIT, trustDeposit: 0n });
  const jc = createJobCreator({ ...net.endpoints, account, mediators: [net.mediator] }, { journal: memoryJournal() });
  // The same account, the same LilyDeals deposit: only the escrow the job's deals lock from differs.
  assert.equal((await jc.explain(cowsay("x", { policy: "optimistic:2m" }))).deposit.balance, DEPOSIT);
  assert.equal((await jc.explain(cowsay("x"))).deposit.balance, 0n);
  const e = await rejection(jc.submitJob(cowsay("no trust deposit")));
  assert.deepEqual([e.code, e.field, e.details.balance, e.details.escrow], ["INSUFFICIENT_DEPOSIT", "maxPrice", 0n, "trust"]);
  assert.match(e.hint ?? "", /lily deposit <amount> --trust-escrow/);
  await deposit(client, { amount: PRICE, escrow: net.addresses.trustDeals! });
  assert.equal((await jc.explain(cowsay("x"))).deposit.balance, PRICE);
});

test("a provider silent past its deadline: the job creator opens the deal itself, times it out on LilyTrustDeals and gets its price and the collateral", async (t) => {
  const t0 = await net.trustBalances();
  const job = await net.jc.submitJob(cowsay("silence", { timeoutSeconds: 3 }));
  const result = follow(t, job.jobOfferId);
  const proposal = await firstProposal(job.jobOfferId);
  // The provider signs and then does nothing: the job creator opens it after its grace, then times it out.
  await net.providerOf(proposal.deal.provider).sign(proposal);
  const e = await rejection(result);
  assert.ok(isLilyError(e, "DEADLINE_PASSED"), String(e));
  const nonce = trustDealOf(proposal.id, proposal.deal).nonce;
  assert.equal(await trustDealState(net.deployer, { provider: proposal.deal.provider, nonce }), "timedOut");
  const opened = await locateTrustDeal(net.deployer, { dealId: proposal.id, deal: proposal.deal });
  const openTx = await net.deployer.publicClient.getTransaction({ hash: opened!.txHash });
  assert.equal(openTx.from.toLowerCase(), net.jobCreator.address.toLowerCase(), "the job creator opened it (its open fallback)");
  assert.equal(net.journal.get(job.jobOfferId)?.stage, "refunded");
  assert.deepEqual(
    await net.trustBalances(),
    moved(t0, { jobCreator: COLLATERAL, [proposal.deal.provider]: -COLLATERAL }),
    "refunded the price, and paid the provider's collateral",
  );
});

test("the job creator refuses a provider signature over the wrong form (a Deal signature on a trust route) and signs nothing", async () => {
  const job = await net.jc.submitJob(cowsay("wrong form"));
  const proposal = await firstProposal(job.jobOfferId);
  const provider = net.providerOf(proposal.deal.provider);
  const entry = net.journal.get(job.jobOfferId)!;
  const asDeal = { ...proposal, providerSignature: await provider.signature(proposal, { asDeal: true }) };
  const e = await rejection(signProposals(net.jc.context, { ...entry }, [asDeal], 1, () => {}));
  assert.deepEqual([e.code, e.field], ["BAD_SIGNATURE", "providerSignature"]);
  assert.equal(net.journal.get(job.jobOfferId)?.dealId, undefined, "nothing signed or journaled");
  assert.equal((await net.solver.getDeal({ params: { id: proposal.id } })).jobCreatorSignature, undefined, "nothing posted");
  // The same proposal with the TrustDeal signature is signed: the form alone made the difference.
  const routed = { ...proposal, providerSignature: await provider.signature(proposal) };
  await signProposals(net.jc.context, { ...entry }, [routed], 1, () => {});
  assert.equal(net.journal.get(job.jobOfferId)?.dealId, proposal.id);
});

test("a proposal whose id is not its terms' digest is refused: a routed deal's nonce comes from its id", async () => {
  const job = await net.jc.submitJob(cowsay("forged id"));
  const proposal = await firstProposal(job.jobOfferId);
  const provider = net.providerOf(proposal.deal.provider);
  const forged = { ...proposal, id: keccak256(toHex("another deal")) };
  const signedForged = { ...forged, providerSignature: await provider.signature(forged) };
  const e = await rejection(signProposals(net.jc.context, { ...net.journal.get(job.jobOfferId)! }, [signedForged], 1, () => {}));
  assert.deepEqual([e.code, e.field], ["CONFLICT", "id"]);
});

test("a provider that settles (and is paid) but never sends its signed result: the job ends failed, naming the result, once the grace after the deadline is over", async (t) => {
  const t0 = await net.trustBalances();
  const job = await net.jc.submitJob(cowsay("paid, silent", { timeoutSeconds: 3 }));
  const result = follow(t, job.jobOfferId);
  const proposal = await firstProposal(job.jobOfferId);
  const provider = net.providerOf(proposal.deal.provider);
  await provider.sign(proposal);
  await eventually(async () => (await net.solver.getDeal({ params: { id: proposal.id } })).jobCreatorSignature);
  await provider.open(proposal);
  await provider.settle(proposal);
  const e = await rejection(result);
  assert.deepEqual([e.code, e.field, e.details.settled], ["DEADLINE_PASSED", "result", true]);
  const now = (await net.deployer.publicClient.getBlock()).timestamp;
  assert.ok(now > proposal.deal.deadline + SIGNED_RESULT_GRACE_SECONDS, "it waited out the result's grace after the deadline");
  assert.equal(net.journal.get(job.jobOfferId)?.stage, "failed");
  assert.deepEqual(
    await net.trustBalances(),
    moved(t0, { jobCreator: -proposal.deal.price, [proposal.deal.provider]: proposal.deal.price }),
    "the provider was paid",
  );
});

test("someone else times the silent provider's deal out first: the job creator's own timeout is not needed (or is skipped), and it still ends refunded with the collateral", async (t) => {
  const t0 = await net.trustBalances();
  const job = await net.jc.submitJob(cowsay("raced", { timeoutSeconds: 3 }));
  const result = follow(t, job.jobOfferId);
  const proposal = await firstProposal(job.jobOfferId);
  const provider = net.providerOf(proposal.deal.provider);
  await provider.sign(proposal);
  await eventually(async () => (await net.solver.getDeal({ params: { id: proposal.id } })).jobCreatorSignature);
  await provider.open(proposal);
  // A third party (the deployer) sends the timeout the moment the chain's clock passes the deadline,
  // before the job creator's grace is over.
  const opened = await eventually(() => locateTrustDeal(net.deployer, { dealId: proposal.id, deal: proposal.deal }));
  const terms = trustTermsOf(trustDealOf(proposal.id, proposal.deal));
  await eventually(async () => ((await net.deployer.publicClient.getBlock()).timestamp > proposal.deal.deadline ? true : undefined));
  const theirs = await timeOutTrustDeals(net.deployer, { batchNo: opened.batchNo, leaves: opened.leaves, provider: proposal.deal.provider, deals: [terms] });
  assert.equal(theirs.timedOut.length, 1, "the third party timed it out");
  const e = await rejection(result);
  assert.ok(isLilyError(e, "DEADLINE_PASSED"), String(e));
  assert.equal(net.journal.get(job.jobOfferId)?.stage, "refunded");
  assert.deepEqual(await net.trustBalances(), moved(t0, { jobCreator: COLLATERAL, [proposal.deal.provider]: -COLLATERAL }), "refunded once, collateral once");
});
