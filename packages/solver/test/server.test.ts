// The solver over HTTP: signed offers in, proposals whose terms both parties can re-derive out,
// signatures checked against the stored terms, state that survives a restart, live events.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import type { Hex } from "viem";
import { setSignEntropy } from "viem/accounts";
import { deriveDeal, hashRecord, mediatorSetHash, signRecord, type Result } from "@lily/protocol";
import { subscribe, type LilyEvent } from "@lily/api";
import {
  startTestChain,
  startTestSolver,
  parties,
  account,
  resourceOffer,
  jobOffer,
  signer,
  signBoth,
  fails,
  eventually,
  cid,
  inputs,
  primes,
  now,
  type Api,
  type TestChain,
} from "./harness.ts";

let chain: TestChain;
before(async () => {
  chain = await startTestChain();
});
after(() => chain.stop());

/** A provider and a job creator whose offers the solver has matched into a proposed deal. */
async function proposedDeal(api: Api) {
  const sign = signer(chain.domain);
  const { rp, jc } = await parties(chain, ["rp", "jc"]);
  await api.postResourceOffer({ body: await sign.resourceOffer(rp, resourceOffer(rp)) });
  const job = await api.postJobOffer({ body: await sign.jobOffer(jc, jobOffer(jc)) });
  assert.equal(job.status, "matched");
  const deal = await api.getDeal({ params: { id: job.dealIds[0]! } });
  return { rp, jc, job, deal };
}

test("health names the role, chain, contract and token", async (t) => {
  const { api } = await startTestSolver(t, chain);
  assert.deepEqual(await api.health({}), {
    role: "solver",
    version: "0.1.0",
    chainId: chain.domain.chainId,
    deals: chain.addresses.deals,
    token: chain.addresses.token,
  });
});

test("a signed resource offer and job offer become a proposal: the deal deriveDeal gives, open for one sign window", async (t) => {
  const { api } = await startTestSolver(t, chain);
  const sign = signer(chain.domain);
  const { rp, jc, m } = await parties(chain, ["rp", "jc", "m"], ["m"]);
  const ro = await api.postResourceOffer({
    body: await sign.resourceOffer(rp, resourceOffer(rp, { price: 40n, collateral: 8n, mediators: [m.address, jc.address] })),
  });
  const before = now();
  const job = await api.postJobOffer({
    body: await sign.jobOffer(jc, jobOffer(jc, { policy: 1, policyParam: 600n, timeoutSeconds: 120n, mediators: [jc.address, m.address] })),
  });
  assert.equal(job.status, "matched");
  const deal = await api.getDeal({ params: { id: job.dealIds[0]! } });
  assert.ok(deal.deal.openBy >= before + 60n && deal.deal.openBy <= before + 62n, `openBy ${deal.deal.openBy}`);
  assert.deepEqual(deal.deal, deriveDeal({ id: job.id, offer: job.offer }, { id: ro.id, offer: ro.offer }, { openBy: deal.deal.openBy }));
  assert.equal(deal.deal.deadline, deal.deal.openBy + 120n);
  assert.equal(deal.deal.mediators, mediatorSetHash([m.address]), "the job creator, a party, is not among its own deal's mediators");
  assert.equal(deal.id, hashRecord(chain.domain, "Deal", deal.deal));
  assert.deepEqual([deal.status, deal.module, deal.inputs, deal.group], ["proposed", primes, inputs, undefined]);
  assert.deepEqual(
    (await api.listDeals({ query: { provider: rp.address, status: "proposed" } })).deals.map((d) => d.id),
    [deal.id],
  );
  // Several statuses separated by commas: any of them.
  const list = async (status: string) => (await api.listDeals({ query: { provider: rp.address, status } })).deals.map((d) => d.id);
  assert.deepEqual(await list("proposed,signed"), [deal.id]);
  assert.deepEqual(await list("signed,opened"), []);
  await assert.rejects(list("proposed,bogus"), fails("INVALID_INPUT", "query.status.1"));
  await assert.rejects(list(""), fails("INVALID_INPUT", "query.status.0"));
  assert.deepEqual(await api.getResourceOffer({ params: { id: ro.id } }), ro);
  await assert.rejects(api.getResourceOffer({ params: { id: `0x${"ab".repeat(32)}` } }), fails("NOT_FOUND", "id"));
});

test("forged offers are rejected with BAD_SIGNATURE and change nothing", async (t) => {
  const { api } = await startTestSolver(t, chain);
  const sign = signer(chain.domain);
  const { rp, jc, mallory } = await parties(chain, ["rp", "jc", "mallory"]);
  await api.postResourceOffer({ body: await sign.resourceOffer(rp, resourceOffer(rp)) });
  const forgeries: { says: string; post: () => Promise<unknown> }[] = [
    {
      says: "a resource offer signed by someone other than its provider",
      post: async () => api.postResourceOffer({ body: await sign.resourceOffer(mallory, resourceOffer(rp)) }),
    },
    {
      says: "a resource offer whose price changed after signing",
      post: async () => {
        const signed = await sign.resourceOffer(rp, resourceOffer(rp));
        return api.postResourceOffer({ body: { ...signed, offer: { ...signed.offer, price: 1n } } });
      },
    },
    { says: "an unsigned resource offer", post: async () => api.postResourceOffer({ body: { offer: resourceOffer(rp), signature: `0x${"00".repeat(65)}` } }) },
    {
      says: "a job offer signed by someone other than its job creator",
      post: async () => api.postJobOffer({ body: await sign.jobOffer(mallory, jobOffer(jc)) }),
    },
    {
      says: "a job offer whose maxPrice changed after signing",
      post: async () => {
        const signed = await sign.jobOffer(jc, jobOffer(jc));
        return api.postJobOffer({ body: { ...signed, offer: { ...signed.offer, maxPrice: 10_000n } } });
      },
    },
  ];
  for (const f of forgeries) await assert.rejects(f.post(), fails("BAD_SIGNATURE", "signature"), f.says);
  assert.equal((await api.listResourceOffers({})).offers.length, 1);
  assert.deepEqual((await api.listDeals({})).deals, []);
});

test("expired offers are rejected naming offer.expiresAt", async (t) => {
  const { api } = await startTestSolver(t, chain);
  const sign = signer(chain.domain);
  const [rp, jc] = [account(), account()];
  const past = now() - 1n;
  await assert.rejects(
    api.postResourceOffer({ body: await sign.resourceOffer(rp, resourceOffer(rp, { expiresAt: past })) }),
    fails("INVALID_INPUT", "offer.expiresAt"),
  );
  await assert.rejects(api.postJobOffer({ body: await sign.jobOffer(jc, jobOffer(jc, { expiresAt: past })) }), fails("INVALID_INPUT", "offer.expiresAt"));
});

test("a newer resource offer replaces the provider's older one, and an older nonce cannot come back", async (t) => {
  const { api } = await startTestSolver(t, chain);
  const sign = signer(chain.domain);
  const rp = account();
  await api.postResourceOffer({ body: await sign.resourceOffer(rp, resourceOffer(rp, { nonce: 5n, price: 50n })) });
  const newer = await api.postResourceOffer({ body: await sign.resourceOffer(rp, resourceOffer(rp, { nonce: 6n, price: 30n })) });
  assert.deepEqual(
    (await api.listResourceOffers({})).offers.map((o) => o.id),
    [newer.id],
  );
  await assert.rejects(
    api.postResourceOffer({ body: await sign.resourceOffer(rp, resourceOffer(rp, { nonce: 5n, price: 1n })) }),
    fails("CONFLICT", "offer.nonce"),
  );
});

test("a provider holds one offer per price: offers for other modules stay active, one for the same module replaces it", async (t) => {
  const { api } = await startTestSolver(t, chain);
  const sign = signer(chain.domain);
  const rp = account();
  const other = cid("another module");
  const cheap = await api.postResourceOffer({ body: await sign.resourceOffer(rp, resourceOffer(rp, { price: 10n })) });
  const dear = await api.postResourceOffer({ body: await sign.resourceOffer(rp, resourceOffer(rp, { price: 90n, modules: [other] })) });
  const active = async () => (await api.listResourceOffers({})).offers.map((o) => o.id).sort();
  assert.deepEqual(await active(), [cheap.id, dear.id].sort());
  const repriced = await api.postResourceOffer({ body: await sign.resourceOffer(rp, resourceOffer(rp, { price: 20n })) });
  assert.deepEqual(await active(), [dear.id, repriced.id].sort());
});

test("both parties' signatures make a proposed deal signed", async (t) => {
  const { api } = await startTestSolver(t, chain);
  const { rp, jc, deal } = await proposedDeal(api);
  const half = await signBoth(api, chain.domain, deal.id, jc);
  assert.equal(half.status, "proposed");
  const full = await signBoth(api, chain.domain, deal.id, rp);
  assert.equal(full.status, "signed");
  assert.ok(full.jobCreatorSignature && full.providerSignature);
  assert.deepEqual(full.deal, deal.deal);
});

/** The same signature with s flipped to the upper half: recovers to the same key, refused on chain. */
function malleate(sig: Hex): Hex {
  const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
  const s = n - BigInt(`0x${sig.slice(66, 130)}`);
  return `0x${sig.slice(2, 66)}${s.toString(16).padStart(64, "0")}${sig.slice(130) === "1b" ? "1c" : "1b"}`;
}

test("deal signatures not by a party over the stored terms are refused and change nothing", async (t) => {
  const { api } = await startTestSolver(t, chain);
  const { rp, jc, deal } = await proposedDeal(api);
  const sign = (by: typeof rp, terms = deal.deal) => signRecord(by, chain.domain, "Deal", terms);
  const mallory = account();
  const cases = [
    { says: "a third party signing as itself", signer: mallory.address, signature: await sign(mallory), field: "signer" },
    { says: "a third party signing as the provider", signer: rp.address, signature: await sign(mallory), field: "signature" },
    {
      says: "the job creator signing altered terms",
      signer: jc.address,
      signature: await sign(jc, { ...deal.deal, price: deal.deal.price - 1n }),
      field: "signature",
    },
    {
      says: "the provider signing terms without its collateral",
      signer: rp.address,
      signature: await sign(rp, { ...deal.deal, collateral: 0n }),
      field: "signature",
    },
    {
      says: "the provider signing a later openBy",
      signer: rp.address,
      signature: await sign(rp, { ...deal.deal, openBy: deal.deal.openBy + 3600n }),
      field: "signature",
    },
    { says: "a malleated (high-s) job creator signature", signer: jc.address, signature: malleate(await sign(jc)), field: "signature" },
    {
      says: "a job creator signature with v = 0, which the contract refuses",
      signer: jc.address,
      signature: `${(await sign(jc)).slice(0, 130)}00` as Hex,
      field: "signature",
    },
  ];
  for (const c of cases)
    await assert.rejects(
      api.signDeal({ params: { id: deal.id }, body: { signer: c.signer, signature: c.signature } }),
      fails("BAD_SIGNATURE", c.field),
      c.says,
    );
  assert.deepEqual(await api.getDeal({ params: { id: deal.id } }), deal);
});

test("a party signs a deal once: the same signature again is a no-op, a different one a CONFLICT", async (t) => {
  const { api } = await startTestSolver(t, chain);
  const { jc, deal } = await proposedDeal(api);
  const first = await signRecord(jc, chain.domain, "Deal", deal.deal);
  await api.signDeal({ params: { id: deal.id }, body: { signer: jc.address, signature: first } });
  await api.signDeal({ params: { id: deal.id }, body: { signer: jc.address, signature: first } });
  setSignEntropy(true); // a second, equally valid signature over the same terms
  const second = await signRecord(jc, chain.domain, "Deal", deal.deal);
  assert.notEqual(second, first);
  await assert.rejects(api.signDeal({ params: { id: deal.id }, body: { signer: jc.address, signature: second } }), fails("CONFLICT", "signature"));
  assert.equal((await api.getDeal({ params: { id: deal.id } })).jobCreatorSignature, first);
});

test("posting the same signed job offer twice gives one job offer and one deal", async (t) => {
  const { api } = await startTestSolver(t, chain);
  const sign = signer(chain.domain);
  const { rp, jc } = await parties(chain, ["rp", "jc"]);
  await api.postResourceOffer({ body: await sign.resourceOffer(rp, resourceOffer(rp)) });
  const body = await sign.jobOffer(jc, jobOffer(jc));
  const [a, b] = await Promise.all([api.postJobOffer({ body }), api.postJobOffer({ body })]);
  assert.deepEqual([b.id, b.dealIds], [a.id, a.dealIds]);
  assert.equal((await api.listDeals({ query: { jobCreator: jc.address } })).deals.length, 1);
});

test("a provider that rejects a deal is excluded and the job goes to another provider", async (t) => {
  const { api } = await startTestSolver(t, chain);
  const sign = signer(chain.domain);
  const { cheap, dear, jc } = await parties(chain, ["cheap", "dear", "jc"]);
  await api.postResourceOffer({ body: await sign.resourceOffer(cheap, resourceOffer(cheap, { price: 10n })) });
  await api.postResourceOffer({ body: await sign.resourceOffer(dear, resourceOffer(dear, { price: 90n })) });
  const job = await api.postJobOffer({ body: await sign.jobOffer(jc, jobOffer(jc)) });
  const first = await api.getDeal({ params: { id: job.dealIds[0]! } });
  assert.equal(first.deal.provider, cheap.address);

  const rejected = await api.postDealStatus({ params: { id: first.id }, body: await sign.report(cheap, first.id, "rejected", { error: "busy" }) });
  assert.equal(rejected.status, "rejected");
  const after = await api.getJobOffer({ params: { id: job.id } });
  assert.equal(after.status, "matched");
  assert.notEqual(after.dealIds[0], first.id);
  assert.equal((await api.getDeal({ params: { id: after.dealIds[0]! } })).deal.provider, dear.address);
  assert.match(after.rejections[cheap.address]!, /^excluded: rejected deal 0x[0-9a-f]{64}: busy$/);
});

test("when no provider fits, the job offer stays open with a reason naming each provider", async (t) => {
  const { api } = await startTestSolver(t, chain);
  const sign = signer(chain.domain);
  const { wrongModule, tooDear, tooSmall, jc } = await parties(chain, ["wrongModule", "tooDear", "tooSmall", "jc"]);
  await api.postResourceOffer({ body: await sign.resourceOffer(wrongModule, resourceOffer(wrongModule, { modules: [cid("other.wasm")] })) });
  await api.postResourceOffer({ body: await sign.resourceOffer(tooDear, resourceOffer(tooDear, { price: 500n })) });
  await api.postResourceOffer({ body: await sign.resourceOffer(tooSmall, resourceOffer(tooSmall, { memoryMb: 128 })) });
  const job = await api.postJobOffer({ body: await sign.jobOffer(jc, jobOffer(jc)) });
  assert.deepEqual([job.status, job.dealIds], ["open", []]);
  assert.deepEqual(job.rejections, {
    [wrongModule.address]: `module: module ${primes} is not in the provider's allow-list`,
    [tooDear.address]: "price: price 0.0000000000000005 LILY is above maxPrice 0.0000000000000001 LILY",
    [tooSmall.address]: "capacity: memoryMb: needs 256, the offer has 128",
  });
});

test("deal progress follows the state machine, naming `status` when it does not", async (t) => {
  const { api } = await startTestSolver(t, chain);
  const sign = signer(chain.domain);
  const { rp: proposer, deal: proposed } = await proposedDeal(api);
  const txHash = `0x${"ab".repeat(32)}` as Hex;
  for (const status of ["running", "opened", "timed-out"] as const) {
    await assert.rejects(
      api.postDealStatus({ params: { id: proposed.id }, body: await sign.report(proposer, proposed.id, status, { txHash }) }),
      fails("CONFLICT", "status"),
      `${status} before signed`,
    );
  }
  const { rp, jc, deal } = await proposedDeal(api);
  await signBoth(api, chain.domain, deal.id, jc, rp);
  const id = deal.id;
  const at = now();
  await assert.rejects(api.postDealStatus({ params: { id }, body: await sign.report(rp, id, "opened", { at }) }), fails("INVALID_INPUT", "progress.txHash"));
  const opened = await sign.report(rp, id, "opened", { txHash, at });
  assert.equal((await api.postDealStatus({ params: { id }, body: opened })).openTx, txHash);
  const running = await api.postDealStatus({ params: { id }, body: await sign.report(rp, id, "running", { at }) });
  assert.equal(running.status, "running", "a report made in the same second as the last one is not stale");
  assert.equal(running.progress?.progress.status, "running", "the deal keeps the provider's last signed report");
  await assert.rejects(api.postDealStatus({ params: { id }, body: opened }), fails("CONFLICT", "status"), "a replayed report does not move it back");
  await assert.rejects(
    api.postDealStatus({ params: { id }, body: await sign.report(rp, id, "rejected") }),
    fails("CONFLICT", "status"),
    "rejected once running",
  );

  const result: Result = { dealId: id, provider: rp.address, result: cid("output"), exitCode: 0 };
  const mallory = account();
  await assert.rejects(
    api.postResult({ params: { id }, body: { result, signature: await signRecord(mallory, chain.domain, "Result", result) } }),
    fails("BAD_SIGNATURE", "signature"),
  );
  const elsewhere = { ...result, dealId: proposed.id };
  await assert.rejects(
    api.postResult({ params: { id }, body: { result: elsewhere, signature: await signRecord(rp, chain.domain, "Result", elsewhere) } }),
    fails("INVALID_INPUT", "result.dealId"),
  );
  const committed = await api.postResult({ params: { id }, body: { result, signature: await signRecord(rp, chain.domain, "Result", result) } });
  assert.equal(committed.status, "committed");
  assert.equal(committed.result?.result.result, result.result);
  assert.deepEqual(committed.deal, deal.deal);
});

test("a provider's list of its deals can hold the job offers of those still proposed, once each", async (t) => {
  const { api } = await startTestSolver(t, chain);
  const { rp, jc, deal, job } = await proposedDeal(api);
  const query = { provider: rp.address, status: "proposed,signed" };
  const plain = await api.listDeals({ query });
  assert.deepEqual([plain.deals.map((d) => d.id), plain.jobOffers], [[deal.id], undefined], "only when asked");
  const listed = await api.listDeals({ query: { ...query, with: "jobOffers" } });
  assert.deepEqual(listed.deals, plain.deals);
  assert.deepEqual(listed.jobOffers, [await api.getJobOffer({ params: { id: job.id } })]);
  await signBoth(api, chain.domain, deal.id, jc, rp);
  const signed = await api.listDeals({ query: { ...query, with: "jobOffers" } });
  assert.deepEqual([signed.deals.map((d) => d.status), signed.jobOffers], [["signed"], []], "a signed deal's job offer is not needed any more");
});

test("a job that starts as its deal opens is reported running straight from signed, naming the opening", async (t) => {
  const { api } = await startTestSolver(t, chain);
  const sign = signer(chain.domain);
  const { rp, jc, deal } = await proposedDeal(api);
  await signBoth(api, chain.domain, deal.id, jc, rp);
  const id = deal.id;
  await assert.rejects(
    api.postDealStatus({ params: { id }, body: await sign.report(rp, id, "running") }),
    fails("INVALID_INPUT", "progress.txHash"),
    "a signed deal reported running names its opening",
  );
  const txHash = `0x${"cd".repeat(32)}` as Hex;
  const running = await api.postDealStatus({ params: { id }, body: await sign.report(rp, id, "running", { txHash }) });
  assert.deepEqual([running.status, running.openTx], ["running", txHash]);
  await assert.rejects(
    api.postDealStatus({ params: { id }, body: await sign.report(rp, id, "opened", { txHash }) }),
    fails("CONFLICT", "status"),
    "and it does not go back to opened",
  );
});

test("records and open job offers survive a restart", async (t) => {
  const first = await startTestSolver(t, chain);
  const sign = signer(chain.domain);
  const { jc, job, deal } = await proposedDeal(first.api);
  const signed = await signBoth(first.api, chain.domain, deal.id, jc);
  const waiting = await first.api.postJobOffer({ body: await sign.jobOffer(jc, jobOffer(jc, { module: cid("rare.wasm") })) });
  assert.equal(waiting.status, "open");
  await first.solver.close();

  const { api } = await startTestSolver(t, chain, { dbPath: first.dbPath });
  assert.deepEqual(await api.getDeal({ params: { id: deal.id } }), signed);
  assert.deepEqual(await api.getJobOffer({ params: { id: job.id } }), job);
  assert.equal((await api.getJobOffer({ params: { id: waiting.id } })).status, "open");
  const { rp } = await parties(chain, ["rp"]);
  await api.postResourceOffer({ body: await sign.resourceOffer(rp, resourceOffer(rp, { modules: [cid("rare.wasm")] })) });
  const matched = await api.getJobOffer({ params: { id: waiting.id } });
  assert.equal(matched.status, "matched");
  assert.equal((await api.getDeal({ params: { id: matched.dealIds[0]! } })).deal.provider, rp.address);
});

test("WebSocket subscribers receive the proposal and the job offer's change", async (t) => {
  const { solver, api } = await startTestSolver(t, chain);
  const sign = signer(chain.domain);
  const { rp, jc } = await parties(chain, ["rp", "jc"]);
  const seen = { provider: [] as LilyEvent[], jobCreator: [] as LilyEvent[] };
  for (const [who, address] of [
    ["provider", rp.address],
    ["jobCreator", jc.address],
  ] as const) {
    await new Promise<void>((opened) => {
      const sub = subscribe(solver.url, { [who]: address }, (ev) => seen[who].push(ev), { onOpen: opened });
      t.after(() => sub.close());
    });
  }
  await api.postResourceOffer({ body: await sign.resourceOffer(rp, resourceOffer(rp)) });
  const job = await api.postJobOffer({ body: await sign.jobOffer(jc, jobOffer(jc)) });

  const proposal = await eventually(async () => seen.provider.find((e) => e.type === "deal"));
  assert.ok(proposal.type === "deal");
  assert.deepEqual([proposal.record.id, proposal.record.status, proposal.record.deal.provider], [job.dealIds[0], "proposed", rp.address]);
  const matched = await eventually(async () => seen.jobCreator.find((e) => e.type === "job-offer" && e.record.status === "matched"));
  assert.equal(matched.record.id, job.id);
});
