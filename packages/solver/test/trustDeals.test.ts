// Routed trust deals (a trust deal on a network with LilyTrustDeals), over HTTP against a real
// chain: the solver takes only the TrustDeal-form signature, backs the deal by the parties'
// LilyTrustDeals escrow (not their LilyDeals one, nor its holds), and follows the contract's batch
// events (opened among other deals, settled, timed out) to the deals it proposed, across a restart.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { parseEther, zeroAddress, type Hex, type LocalAccount } from "viem";
import { deposit, fundAccount, openTrustDeals, settleTrustDeals, signDealFor, timeOutTrustDeals, trustDealDomain, trustTermsOf } from "@lily/chain";
import { signRecord, trustDealOf, trustDealOffers, type DealRecord, type TrustDealMessage } from "@lily/protocol";
import { startTestChain, startTestSolver, account, resourceOffer, jobOffer, signer, eventually, fails, ESCROW, type Api, type TestChain } from "./harness.ts";

let chain: TestChain;
before(async () => {
  chain = await startTestChain();
});
after(() => chain.stop());

/** Fresh parties with gas and `deals` / `trust` LILY deposited into LilyDeals' / LilyTrustDeals' escrow. */
async function fundedParties(n: number, { deals = ESCROW, trust = ESCROW }: { deals?: bigint; trust?: bigint } = {}): Promise<LocalAccount[]> {
  const out = Array.from({ length: n }, account);
  for (const a of out) await fundAccount(chain.deployer, { to: a.address, eth: parseEther("1"), tokens: deals + trust });
  await Promise.all(
    out.map(async (a) => {
      const client = chain.clientOf(a);
      if (deals > 0n) await deposit(client, { amount: deals });
      if (trust > 0n) await deposit(client, { amount: trust, escrow: chain.addresses.trustDeals! });
    }),
  );
  return out;
}

const solverOn = (t: Parameters<typeof startTestSolver>[0], o: Parameters<typeof startTestSolver>[2] = {}) =>
  startTestSolver(t, chain, { trustDeals: chain.addresses.trustDeals!, ...o });

/** Providers' nonces, in sequence as a provider picks them (one counter serves every test's providers). */
let nextNonce = 1n;

/**
 * The parties sign deal `id` in the routed form (its TrustDeal under LilyTrustDeals), through the
 * solver, in the given order: the provider picks its next nonce and posts it with its signature, the
 * job creator signs under the nonce the solver's record then carries.
 */
async function signRouted(api: Api, id: Hex, ...by: LocalAccount[]): Promise<DealRecord> {
  for (const party of by) {
    const { deal, trustNonce: recorded } = await api.getDeal({ params: { id } });
    const isProvider = party.address === deal.provider;
    const trustNonce = isProvider ? nextNonce++ : recorded;
    const signature = await signDealFor(party, chain.addresses, { dealId: id, deal, trustNonce });
    await api.signDeal({ params: { id }, body: { signer: party.address, signature, ...(isProvider && { trustNonce }) } });
  }
  return api.getDeal({ params: { id } });
}

const statusOf = (api: Api, id: Hex, status: DealRecord["status"], timeoutMs?: number) =>
  eventually(async () => {
    const d = await api.getDeal({ params: { id } });
    return d.status === status ? d : undefined;
  }, timeoutMs);

/** What the solver's book last recorded the chain showing of a deal (only chain events set it, never chain time). */
function onChainOf(dbPath: string, id: Hex): string | null {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  try {
    return (db.prepare("SELECT on_chain FROM deals WHERE id = ?").get(id) as { on_chain: string | null }).on_chain;
  } finally {
    db.close();
  }
}

const chainNow = async () => (await chain.deployer.publicClient.getBlock({ blockTag: "latest" })).timestamp;
async function untilChainPast(t: bigint): Promise<void> {
  await eventually(async () => ((await chainNow()) > t ? true : undefined), 30_000);
}

/** A deal of `jc` with `rp` matched by the solver and signed by both in the routed form. */
async function routedDeal(api: Api, jc: LocalAccount, rp: LocalAccount, o: Parameters<typeof jobOffer>[1] = {}) {
  const sign = signer(chain.domain);
  const job = await api.postJobOffer({ body: await sign.jobOffer(jc, jobOffer(jc, { cpu: 1, ...o })) });
  assert.equal(job.status, "matched", JSON.stringify(job.rejections));
  return signRouted(api, job.dealIds[0]!, rp, jc);
}

const opening = (d: DealRecord) => ({ deal: trustDealOf(d.deal, d.trustNonce!), jobCreatorSig: d.jobCreatorSignature!, providerSig: d.providerSignature! });

/** A fresh provider's offer and a fresh job creator's job matched into a deal, proposed and signed by neither. */
async function proposedDeal(api: Api) {
  const [rp, jc] = await fundedParties(2);
  const sign = signer(chain.domain);
  await api.postResourceOffer({ body: await sign.resourceOffer(rp!, resourceOffer(rp!)) });
  const job = await api.postJobOffer({ body: await sign.jobOffer(jc!, jobOffer(jc!)) });
  const id = job.dealIds[0]!;
  const { deal } = await api.getDeal({ params: { id } });
  return { rp: rp!, jc: jc!, sign, id, deal };
}

test("a routed trust deal takes the TrustDeal-form signature and refuses the Deal-form one", async (t) => {
  const { api } = await solverOn(t);
  const { rp, jc, sign, id, deal } = await proposedDeal(api);
  // The Deal form under LilyDeals verifies as a LilyDeals deal would, but it could open nothing on LilyTrustDeals.
  await assert.rejects(
    api.signDeal({ params: { id }, body: { signer: rp.address, signature: await sign.deal(rp, deal), trustNonce: 1n } }),
    fails("BAD_SIGNATURE", "signature"),
  );
  const signed = await signRouted(api, id, rp, jc);
  assert.equal(signed.status, "signed");
});

test("a routed deal's provider signs first under a nonce it names, once; the job creator signs under that nonce", async (t) => {
  const { api, dbPath, solver } = await solverOn(t);
  const { rp, jc, id, deal } = await proposedDeal(api);
  const under = (trustNonce: bigint | undefined, party: LocalAccount) => signDealFor(party, chain.addresses, { dealId: id, deal, trustNonce });
  const post = (party: LocalAccount, signature: Hex, trustNonce?: bigint) =>
    api.signDeal({ params: { id }, body: { signer: party.address, signature, ...(trustNonce !== undefined && { trustNonce }) } });

  // REJECT: the job creator cannot sign before its provider picked the nonce
  await assert.rejects(post(jc, await under(5n, jc), 5n), fails("CONFLICT", "providerSignature"));
  // REJECT: the provider's signature alone does not say which TrustDeal it is over
  await assert.rejects(post(rp, await under(5n, rp)), fails("INVALID_INPUT", "trustNonce"));
  // REJECT: a nonce other than the one signed under
  await assert.rejects(post(rp, await under(5n, rp), 6n), fails("BAD_SIGNATURE", "signature"));
  assert.equal((await post(rp, await under(5n, rp), 5n)).trustNonce, 5n);
  // Posting the same signature again is harmless; another nonce is another TrustDeal, refused.
  assert.equal((await post(rp, await under(5n, rp), 5n)).trustNonce, 5n);
  await assert.rejects(post(rp, await under(9n, rp), 9n), fails("CONFLICT", "signature"));
  // REJECT: the job creator's signature must be over the provider's nonce
  await assert.rejects(post(jc, await under(9n, jc), 9n), fails("CONFLICT", "trustNonce"));
  await assert.rejects(post(jc, await under(9n, jc)), fails("BAD_SIGNATURE", "signature"));
  const signed = await post(jc, await under(5n, jc));
  assert.equal(signed.status, "signed");

  // The nonce survives a restart, with the index columns the chain's events are matched by.
  await solver.close();
  const again = await solverOn(t, { dbPath });
  assert.equal((await again.api.getDeal({ params: { id } })).trustNonce, 5n);
});

test("routed deals opened in one batch with a deal the solver does not follow: opened, then one settled (committed, and chain time leaves it), the other timed out", async (t) => {
  const { api, dbPath } = await solverOn(t, { signWindowSeconds: 6 });
  const [rp, jc1, jc2, stranger] = await fundedParties(4);
  const sign = signer(chain.domain);
  await api.postResourceOffer({ body: await sign.resourceOffer(rp!, resourceOffer(rp!)) });
  const settled = await routedDeal(api, jc1!, rp!, { timeoutSeconds: 8n });
  const timedOut = await routedDeal(api, jc2!, rp!, { timeoutSeconds: 1n });
  // A trust deal the parties made without this solver, in the same batch: its events are not the solver's.
  const foreign: TrustDealMessage = {
    jobCreator: stranger!.address,
    provider: rp!.address,
    offers: trustDealOffers(`0x${"11".repeat(32)}`, `0x${"22".repeat(32)}`),
    price: 3n,
    collateral: 1n,
    openBy: settled.deal.openBy,
    deadline: settled.deal.deadline,
    nonce: 424242n,
    moduleCreator: zeroAddress,
    royaltyBps: 0,
  };
  const domain = trustDealDomain(chain.addresses);
  const foreignSigned = {
    deal: foreign,
    jobCreatorSig: await signRecord(stranger!, domain, "TrustDeal", foreign),
    providerSig: await signRecord(rp!, domain, "TrustDeal", foreign),
  };
  const provider = chain.clientOf(rp!);
  const batch = await openTrustDeals(provider, { deals: [foreignSigned, opening(settled), opening(timedOut)] });
  assert.deepEqual(batch.skipped, []);

  for (const d of [settled, timedOut]) {
    const opened = await statusOf(api, d.id, "opened");
    assert.equal(opened.openTx, batch.txHash, "its open transaction is the batch's");
  }

  // Past openBy, chain time does not take an opened routed deal for one nobody opened.
  await untilChainPast(settled.deal.openBy);
  await new Promise((r) => setTimeout(r, 300)); // a few sweeps at that chain time
  assert.equal((await api.getDeal({ params: { id: settled.id } })).status, "opened");

  await settleTrustDeals(provider, { batchNo: batch.batchNo, leaves: batch.leaves, deals: [trustTermsOf(opening(settled).deal)] });
  await statusOf(api, settled.id, "committed");
  assert.equal(onChainOf(dbPath, settled.id), "committed", "from the DealsSettled event");

  await untilChainPast(timedOut.deal.deadline);
  await timeOutTrustDeals(chain.clientOf(jc2!), {
    batchNo: batch.batchNo,
    leaves: batch.leaves,
    provider: rp!.address,
    deals: [trustTermsOf(opening(timedOut).deal)],
  });
  const ended = await statusOf(api, timedOut.id, "timed-out");
  assert.equal(ended.error, "deadline passed with no result committed");
  await eventually(async () => (onChainOf(dbPath, timedOut.id) === "timed-out" ? true : undefined));

  // Past the settled deal's deadline, chain time does not end it: the chain showed it settled.
  await untilChainPast(settled.deal.deadline + 1n);
  await new Promise((r) => setTimeout(r, 500)); // a few sweeps at that chain time
  assert.equal((await api.getDeal({ params: { id: settled.id } })).status, "committed");
});

test("a solver restarted between a routed deal's opening and its settling still maps the later event to it", async (t) => {
  const first = await solverOn(t, { signWindowSeconds: 6 });
  const [rp, jc] = await fundedParties(2);
  const sign = signer(chain.domain);
  await first.api.postResourceOffer({ body: await sign.resourceOffer(rp!, resourceOffer(rp!)) });
  const deal = await routedDeal(first.api, jc!, rp!, { timeoutSeconds: 60n });
  const provider = chain.clientOf(rp!);
  const batch = await openTrustDeals(provider, { deals: [opening(deal)] });
  await statusOf(first.api, deal.id, "opened");
  await first.solver.close();

  await settleTrustDeals(provider, { batchNo: batch.batchNo, leaves: batch.leaves, deals: [trustTermsOf(opening(deal).deal)] });
  const second = await solverOn(t, { dbPath: first.dbPath });
  await statusOf(second.api, deal.id, "committed");
});

test("a routed trust job is backed by LilyTrustDeals' escrow: LilyDeals escrow alone does not match it, and LilyDeals holds do not reduce it", async (t) => {
  const { api } = await solverOn(t);
  const sign = signer(chain.domain);
  const mediator = account().address;
  const [rp] = await fundedParties(1);
  await api.postResourceOffer({ body: await sign.resourceOffer(rp!, resourceOffer(rp!, { price: 50n, collateral: 10n, mediators: [mediator] })) });

  const [lilyDealsOnly] = await fundedParties(1, { trust: 0n });
  const refused = await api.postJobOffer({ body: await sign.jobOffer(lilyDealsOnly!, jobOffer(lilyDealsOnly!, { maxPrice: 100n })) });
  assert.equal(refused.status, "open");
  const reason = Object.values(refused.rejections).join("\n");
  assert.match(reason, /^escrow: job creator: LilyTrustDeals escrow 0 LILY free/m, reason);

  // A job creator whose LilyDeals escrow is all held by a LilyDeals deal (replicate(2): not a
  // trust deal) still has its trust escrow for a trust job.
  const [both] = await fundedParties(1, { deals: 200n, trust: 100n });
  const [rp2] = await fundedParties(1);
  await api.postResourceOffer({ body: await sign.resourceOffer(rp2!, resourceOffer(rp2!, { price: 50n, collateral: 10n, mediators: [mediator] })) });
  const replicated = await api.postJobOffer({
    body: await sign.jobOffer(both!, jobOffer(both!, { maxPrice: 100n, policy: 2, policyParam: 2n, mediators: [mediator] })),
  });
  assert.equal(replicated.status, "matched", JSON.stringify(replicated.rejections));
  const trustJob = await api.postJobOffer({ body: await sign.jobOffer(both!, jobOffer(both!, { maxPrice: 100n })) });
  assert.equal(trustJob.status, "matched", JSON.stringify(trustJob.rejections));
  // ...and its trust escrow, now held by that deal, backs no second one.
  const second = await api.postJobOffer({ body: await sign.jobOffer(both!, jobOffer(both!, { maxPrice: 100n })) });
  assert.equal(second.status, "open");
  assert.match(Object.values(second.rejections).join("\n"), /escrow-pending: job creator: LilyTrustDeals escrow .* held for unopened deals/);
});
