// The job creator on a network with LilyTrustDeals, against a real chain, store and solver, with
// providers the test drives by hand: a trust job's deal is signed as its TrustDeal, its deposit
// checked in that contract's escrow, opened, settled or timed out there; a provider signature over
// the wrong form is refused. Every balance is read from the contracts and checked to the wei.
import { test, before, beforeEach, after, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { keccak256, parseEther, toHex, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { deposit, locateTrustDeal, routedTrustDeal, timeOutTrustDeals, trustDealDomain, trustDealState, trustTermsOf } from "@lily/chain";
import { type LilyError, deriveDeal, hashRecord, isLilyError, trustDealOf, verifyRecord } from "@lily/protocol";
import { COLLATERAL, DEPOSIT, PRICE, eventually, startNetwork, type Network } from "./network.ts";
import { createJobCreator, memoryJournal, signedDeals, sqliteJournal } from "../src/index.ts";
import { signProposals } from "../src/signProposals.ts";
import { SIGNED_RESULT_GRACE_SECONDS } from "../src/nextStep.ts";
import { tempDir } from "../../../test/support/tempDir.ts";
import { startRpcHop } from "../../../test/support/rpcHop.ts";

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
  const nonce = provider.nonceFor(proposal)!;
  assert.equal((await net.solver.getDeal({ params: { id: proposal.id } })).trustNonce, nonce, "the solver keeps the nonce the provider posted");
  const who = { signer: net.jobCreator.address, field: "jobCreatorSignature" };
  // The job creator's signature is over the routed form under the provider's nonce, in LilyTrustDeals' domain: not over the Deal, nor another nonce.
  await verifyRecord(trustDealDomain(net.addresses), "TrustDeal", trustDealOf(proposal.deal, nonce), ours, who);
  await assert.rejects(verifyRecord(trustDealDomain(net.addresses), "TrustDeal", trustDealOf(proposal.deal, nonce + 1n), ours, who), (e: unknown) =>
    isLilyError(e, "BAD_SIGNATURE"),
  );
  await assert.rejects(verifyRecord(net.domain, "Deal", proposal.deal, ours, who), (e: unknown) => isLilyError(e, "BAD_SIGNATURE"));
  assert.equal(net.journal.get(job.jobOfferId)?.trustNonce, nonce, "the journal keeps the nonce the deal was signed under");
  // And so does the SQLite journal, the one the CLI and the gateway keep: written, reopened, read back as a bigint.
  const path = join(tempDir("lily-sdk-trust-journal-"), "jobs.db");
  const written = sqliteJournal(path);
  written.put(net.journal.get(job.jobOfferId)!);
  written.close();
  const reopened = sqliteJournal(path);
  t.after(() => reopened.close());
  assert.equal(reopened.get(job.jobOfferId)?.trustNonce, nonce);
  assert.deepEqual(signedDeals(reopened.get(job.jobOfferId)!), [{ dealId: proposal.id, deal: proposal.deal, trustNonce: nonce }]);
  await provider.open(proposal);
  await provider.commit(proposal, "moo\n");
  const r = await result;
  assert.deepEqual([r.dealId, r.stdout, r.settlement, r.price], [proposal.id, "moo\n", "settled", proposal.deal.price]);
  const opened = await locateTrustDeal(net.deployer, { dealId: proposal.id, deal: proposal.deal, trustNonce: nonce });
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

test("a trust job reads the block its opening's search starts from as it is posted, beside its balance, and not again as it signs", async (t) => {
  const hop = await startRpcHop(net.endpoints.rpcUrl);
  t.after(() => hop.close());
  const account = privateKeyToAccount(keccak256(toHex("lily sdk trust: one block read")));
  await net.fund([net.clientFor(account)], { eth: parseEther("1"), tokens: 2n * DEPOSIT, deposit: 0n, trustDeposit: DEPOSIT });
  const journal = memoryJournal();
  const jc = createJobCreator({ ...net.endpoints, rpcUrl: hop.url, account, mediators: [net.mediator] }, { journal });
  const job = await jc.submitJob(cowsay("bounded"));
  assert.equal(hop.calls.get("eth_blockNumber"), 1, "read as the job was posted");
  const from = journal.get(job.jobOfferId)?.trustFromBlock;
  assert.ok(from !== undefined, "and kept in the journal");
  const stop = new AbortController();
  t.after(() => stop.abort());
  const result = jc.waitForResult({ jobOfferId: job.jobOfferId, outDir: tempDir("lily-sdk-trust-out-"), signal: stop.signal });
  result.catch(() => {});
  const proposal = await firstProposal(job.jobOfferId);
  const provider = net.providerOf(proposal.deal.provider);
  await provider.sign(proposal);
  await eventually(async () => (await net.solver.getDeal({ params: { id: proposal.id } })).jobCreatorSignature);
  await provider.open(proposal);
  await provider.commit(proposal, "moo\n");
  const r = await result;
  assert.equal(r.stdout, "moo\n");
  const opened = await locateTrustDeal(net.deployer, { dealId: proposal.id, deal: proposal.deal, trustNonce: provider.nonceFor(proposal)! });
  assert.equal(r.txs.open, opened?.txHash, "the opening is found searching from the block read at posting");
  assert.ok(opened!.blockNumber > BigInt(from), "which it opened after");
  assert.equal(hop.calls.get("eth_blockNumber"), 1, "not read again as it was signed");
});

test("a provider silent past its deadline: the job creator opens the deal itself, times it out on LilyTrustDeals and gets its price and the collateral", async (t) => {
  const t0 = await net.trustBalances();
  const job = await net.jc.submitJob(cowsay("silence", { timeoutSeconds: 3 }));
  const result = follow(t, job.jobOfferId);
  const proposal = await firstProposal(job.jobOfferId);
  // The provider signs and then does nothing: the job creator opens it after its grace, then times it out.
  const provider = net.providerOf(proposal.deal.provider);
  await provider.sign(proposal);
  const e = await rejection(result);
  assert.ok(isLilyError(e, "DEADLINE_PASSED"), String(e));
  const nonce = provider.nonceFor(proposal)!;
  assert.equal(await trustDealState(net.deployer, { provider: proposal.deal.provider, nonce }), "timedOut");
  const opened = await locateTrustDeal(net.deployer, { dealId: proposal.id, deal: proposal.deal, trustNonce: nonce });
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
  // As the solver would hand it on: the nonce the provider posted with its signature.
  const trustNonce = provider.nonceFor(proposal);
  const asDeal = { ...proposal, trustNonce, providerSignature: await provider.signature(proposal, { asDeal: true }) };
  const e = await rejection(signProposals(net.jc.context, { ...entry }, [asDeal], 1, () => {}));
  assert.deepEqual([e.code, e.field], ["BAD_SIGNATURE", "providerSignature"]);
  assert.equal(net.journal.get(job.jobOfferId)?.dealId, undefined, "nothing signed or journaled");
  assert.equal((await net.solver.getDeal({ params: { id: proposal.id } })).jobCreatorSignature, undefined, "nothing posted");
  // The same proposal with the TrustDeal signature is signed: the form alone made the difference.
  const routed = { ...proposal, trustNonce, providerSignature: await provider.signature(proposal) };
  await signProposals(net.jc.context, { ...entry }, [routed], 1, () => {});
  assert.equal(net.journal.get(job.jobOfferId)?.dealId, proposal.id);
});

test("a provider signature over another nonce than the one it posted is refused, and nothing is signed", async () => {
  const job = await net.jc.submitJob(cowsay("other nonce"));
  const proposal = await firstProposal(job.jobOfferId);
  const provider = net.providerOf(proposal.deal.provider);
  await provider.sign(proposal);
  const record = await net.solver.getDeal({ params: { id: proposal.id } });
  assert.equal(record.trustNonce, provider.nonceFor(proposal));
  // The signature is the provider's, over these terms, in the right form: only its nonce is not the record's.
  const elsewhere = { ...record, providerSignature: await provider.signature(proposal, { trustNonce: record.trustNonce! + 1n }) };
  const e = await rejection(signProposals(net.jc.context, { ...net.journal.get(job.jobOfferId)! }, [elsewhere], 1, () => {}));
  assert.deepEqual([e.code, e.field], ["BAD_SIGNATURE", "providerSignature"]);
  assert.equal(net.journal.get(job.jobOfferId)?.dealId, undefined, "nothing signed or journaled");
  assert.equal((await net.solver.getDeal({ params: { id: proposal.id } })).jobCreatorSignature, undefined, "nothing posted");
  // The record as the solver holds it (the signature over its own nonce) is signed.
  await signProposals(net.jc.context, { ...net.journal.get(job.jobOfferId)! }, [record], 1, () => {});
  assert.equal(net.journal.get(job.jobOfferId)?.trustNonce, record.trustNonce);
});

test("a provider that signs a second job of this job creator under a nonce it already used with it is refused: only one of the two could open", async () => {
  const first = await net.jc.submitJob(cowsay("first under the nonce"));
  const p1 = await firstProposal(first.jobOfferId);
  const provider = net.providerOf(p1.deal.provider);
  await provider.sign(p1);
  await signProposals(net.jc.context, { ...net.journal.get(first.jobOfferId)! }, [await net.solver.getDeal({ params: { id: p1.id } })], 1, () => {});
  const nonce = net.journal.get(first.jobOfferId)!.trustNonce!;
  // The second job's deal with the same provider and resource offer, as the solver would propose
  // it (built here: which provider the solver picks for the second job is its own choice).
  const second = await net.jc.submitJob(cowsay("second under the same nonce"));
  const resource = await net.solver.getResourceOffer({ params: { id: p1.deal.resourceOffer } });
  const deal = deriveDeal({ id: second.jobOfferId, offer: net.journal.get(second.jobOfferId)!.offer }, resource, { openBy: p1.deal.openBy });
  const p2 = { ...p1, id: hashRecord(net.domain, "Deal", deal), deal, jobOfferId: second.jobOfferId, trustNonce: nonce };
  const twin = { ...p2, providerSignature: await provider.signature(p2, { trustNonce: nonce }) };
  const e = await rejection(signProposals(net.jc.context, { ...net.journal.get(second.jobOfferId)! }, [twin], 1, () => {}));
  assert.deepEqual([e.code, e.field], ["CONFLICT", "trustNonce"]);
  assert.equal(net.journal.get(second.jobOfferId)?.dealId, undefined, "nothing signed or journaled");
  // A nonce of its own, the same deal is signed: the reused nonce alone made the difference.
  const own = { ...p2, trustNonce: nonce + 1000n, providerSignature: await provider.signature(p2, { trustNonce: nonce + 1000n }) };
  await signProposals(net.jc.context, { ...net.journal.get(second.jobOfferId)! }, [own], 1, () => {});
  assert.equal(net.journal.get(second.jobOfferId)?.dealId, p2.id);
});

test("a proposal whose id is not its terms' digest is refused: the journal, the solver and the provider know the deal by its id", async () => {
  const job = await net.jc.submitJob(cowsay("forged id"));
  const proposal = await firstProposal(job.jobOfferId);
  const provider = net.providerOf(proposal.deal.provider);
  const forged = { ...proposal, id: keccak256(toHex("another deal")) };
  const signedForged = { ...forged, trustNonce: provider.nonceFor(forged), providerSignature: await provider.signature(forged) };
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
  const routed = { dealId: proposal.id, deal: proposal.deal, trustNonce: provider.nonceFor(proposal) };
  const opened = await eventually(() => locateTrustDeal(net.deployer, routed));
  const terms = trustTermsOf(routedTrustDeal(routed));
  await eventually(async () => ((await net.deployer.publicClient.getBlock()).timestamp > proposal.deal.deadline ? true : undefined));
  const theirs = await timeOutTrustDeals(net.deployer, { batchNo: opened.batchNo, leaves: opened.leaves, provider: proposal.deal.provider, deals: [terms] });
  assert.equal(theirs.timedOut.length, 1, "the third party timed it out");
  const e = await rejection(result);
  assert.ok(isLilyError(e, "DEADLINE_PASSED"), String(e));
  assert.equal(net.journal.get(job.jobOfferId)?.stage, "refunded");
  assert.deepEqual(await net.trustBalances(), moved(t0, { jobCreator: COLLATERAL, [proposal.deal.provider]: -COLLATERAL }), "refunded once, collateral once");
});
