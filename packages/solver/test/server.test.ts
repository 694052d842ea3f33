import { NO_MEDIATORS } from "@lily/protocol";
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Address, Hex, LocalAccount } from "viem";
import { privateKeyToAccount, generatePrivateKey, setSignEntropy } from "viem/accounts";
import {
  cidForBytes,
  hashRecord,
  signRecord,
  isLilyError,
  toWire,
  NO_TX_HASH,
  type DealProgress,
  type DealRecord,
  type ErrorCode,
  type JobOffer,
  type JobOfferRecord,
  type ReportedDealStatus,
  type ResourceOffer,
  type Result,
} from "@lily/protocol";
import { createClient, solverRoutes, subscribe, type LilyEvent } from "@lily/api";
import { createLogger } from "@lily/node-kit";
import { startSolver, defaultSolverOptions, PROGRESS_MAX_AHEAD_SECONDS, type SolverOptions } from "../src/index.ts";

const domain = { chainId: 31337, verifyingContract: "0x5FbDB2315678afecb367f032d93F642f64180aa3" } as const;
const token = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512";
const logger = createLogger({ module: "solver", level: "error" });
const cid = (s: string) => cidForBytes(new TextEncoder().encode(s));
const primes = cid("primes.wasm");
const inputs = cid('{"n":10}');
const account = () => privateKeyToAccount(generatePrivateKey());
const now = () => BigInt(Math.floor(Date.now() / 1000));
const inAnHour = () => now() + 3600n;
let nonce = 0n;

type Api = ReturnType<typeof createClient<typeof solverRoutes>>;

async function startTestSolver(t: TestContext, o: Partial<SolverOptions> = {}) {
  const dbPath = o.dbPath ?? join(mkdtempSync(join(tmpdir(), "lily-solver-")), "solver.db");
  const solver = await startSolver({ ...defaultSolverOptions, dbPath, domain, token, ...o }, { logger });
  t.after(() => solver.close());
  return { solver, dbPath, api: createClient(solver.url, solverRoutes) as Api };
}

const resourceOffer = (provider: LocalAccount, o: Partial<ResourceOffer> = {}): ResourceOffer => ({
  provider: provider.address, cpu: 4, memoryMb: 4096, gpu: 0, vramMb: 0, price: 50n, collateral: 10n,
  modules: [primes], mediators: [], expiresAt: inAnHour(), nonce: ++nonce, ...o,
});
const jobOffer = (jobCreator: LocalAccount, o: Partial<JobOffer> = {}): JobOffer => ({
  jobCreator: jobCreator.address, module: primes, inputs, cpu: 1, memoryMb: 256, gpu: 0, vramMb: 0, maxPrice: 100n,
  policy: 0, policyParam: 0n, mediationFee: 0n, mediators: [], moduleCreator: "0x0000000000000000000000000000000000000000", royaltyBps: 0, timeoutSeconds: 300n, expiresAt: inAnHour(), nonce: ++nonce, ...o,
});
const signedResourceOffer = async (by: LocalAccount, offer: ResourceOffer) => ({ offer, signature: await signRecord(by, domain, "ResourceOffer", offer) });
const signedJobOffer = async (by: LocalAccount, offer: JobOffer) => ({ offer, signature: await signRecord(by, domain, "JobOffer", offer) });
/** A status report on deal `id`, in `by`'s name and signed by `by` unless `o` says otherwise. */
const progressReport = (by: LocalAccount, id: Hex, status: ReportedDealStatus, o: Partial<DealProgress> = {}): DealProgress => ({
  dealId: id, provider: by.address, status, txHash: NO_TX_HASH, at: now(), error: "", ...o,
});
const signedProgress = async (by: LocalAccount, progress: DealProgress) => ({ progress, signature: await signRecord(by, domain, "DealProgress", progress) });
/** `by` reports `status` on deal `id`, signed: what a provider process sends. */
const report = (by: LocalAccount, id: Hex, status: ReportedDealStatus, o: Partial<DealProgress> = {}) => signedProgress(by, progressReport(by, id, status, o));

/** A provider and a job creator whose offers the solver has matched into a proposed deal. */
async function proposedDeal(api: Api) {
  const rp = account();
  const jc = account();
  await api.postResourceOffer({ body: await signedResourceOffer(rp, resourceOffer(rp)) });
  const job = await api.postJobOffer({ body: await signedJobOffer(jc, jobOffer(jc)) });
  assert.equal(job.status, "matched");
  const deal = await api.getDeal({ params: { id: job.dealIds[0]! } });
  return { rp, jc, job, deal };
}

async function signedDeal(api: Api) {
  const { rp, jc, deal } = await proposedDeal(api);
  await api.signDeal({ params: { id: deal.id }, body: { signer: jc.address, signature: await signRecord(jc, domain, "Deal", deal.deal) } });
  await api.signDeal({ params: { id: deal.id }, body: { signer: rp.address, signature: await signRecord(rp, domain, "Deal", deal.deal) } });
  return { rp, jc, deal };
}

const fails = (code: ErrorCode, field?: string) => (e: unknown) => isLilyError(e, code) && (field === undefined || e.field === field);

async function eventually<T>(read: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}

test("health names the role, chain, contract and token", async (t) => {
  const { api } = await startTestSolver(t);
  assert.deepEqual(await api.health({}), { role: "solver", version: "0.1.0", chainId: 31337, deals: domain.verifyingContract, token });
});

test("a signed resource offer and job offer become a proposal whose terms match both", async (t) => {
  const { api } = await startTestSolver(t);
  const rp = account();
  const jc = account();
  const ro = await api.postResourceOffer({ body: await signedResourceOffer(rp, resourceOffer(rp, { price: 40n, collateral: 8n })) });
  const before = Math.floor(Date.now() / 1000);
  const job = await api.postJobOffer({ body: await signedJobOffer(jc, jobOffer(jc, { policy: 1, policyParam: 600n, timeoutSeconds: 120n })) });
  assert.equal(job.status, "matched");
  const deal = await api.getDeal({ params: { id: job.dealIds[0]! } });
  const { deadline, ...terms } = deal.deal;
  assert.deepEqual(terms, { jobCreator: jc.address, provider: rp.address, jobOffer: job.id, resourceOffer: ro.id, price: 40n, collateral: 8n, policy: 1, policyParam: 600n,
    mediationFee: 0n, mediators: NO_MEDIATORS, moduleCreator: "0x0000000000000000000000000000000000000000", royaltyBps: 0 });
  assert.ok(deadline >= BigInt(before + 60 + 120) && deadline <= BigInt(before + 60 + 120 + 2), `deadline ${deadline}`);
  assert.equal(deal.id, hashRecord(domain, "Deal", deal.deal));
  assert.deepEqual([deal.status, deal.module, deal.inputs], ["proposed", primes, inputs]);
  assert.deepEqual((await api.listDeals({ query: { provider: rp.address, status: "proposed" } })).deals.map((d) => d.id), [deal.id]);
});

interface Parties { rp: LocalAccount; jc: LocalAccount; mallory: LocalAccount }

const forgeries: { says: string; post: (api: Api, p: Parties) => Promise<unknown> }[] = [
  {
    says: "a resource offer signed by someone other than its provider",
    post: async (api, { rp, mallory }) => api.postResourceOffer({ body: await signedResourceOffer(mallory, resourceOffer(rp)) }),
  },
  {
    says: "a resource offer whose price changed after signing",
    post: async (api, { rp }) => {
      const signed = await signedResourceOffer(rp, resourceOffer(rp));
      return api.postResourceOffer({ body: { ...signed, offer: { ...signed.offer, price: 1n } } });
    },
  },
  {
    says: "an unsigned resource offer",
    post: async (api, { rp }) => api.postResourceOffer({ body: { offer: resourceOffer(rp), signature: `0x${"00".repeat(65)}` } }),
  },
  {
    says: "a job offer signed by someone other than its job creator",
    post: async (api, { jc, mallory }) => api.postJobOffer({ body: await signedJobOffer(mallory, jobOffer(jc)) }),
  },
  {
    says: "a job offer whose maxPrice changed after signing",
    post: async (api, { jc }) => {
      const signed = await signedJobOffer(jc, jobOffer(jc));
      return api.postJobOffer({ body: { ...signed, offer: { ...signed.offer, maxPrice: 10_000n } } });
    },
  },
];

test("forged offers are rejected with BAD_SIGNATURE and change nothing", async (t) => {
  const { api } = await startTestSolver(t);
  const parties = { rp: account(), jc: account(), mallory: account() };
  await api.postResourceOffer({ body: await signedResourceOffer(parties.rp, resourceOffer(parties.rp)) });
  for (const f of forgeries) await assert.rejects(f.post(api, parties), fails("BAD_SIGNATURE", "signature"), f.says);
  assert.equal((await api.listResourceOffers({})).offers.length, 1);
  assert.deepEqual((await api.listDeals({})).deals, []);
});

test("expired offers are rejected naming offer.expiresAt", async (t) => {
  const { api } = await startTestSolver(t);
  const [rp, jc] = [account(), account()];
  const past = BigInt(Math.floor(Date.now() / 1000) - 1);
  await assert.rejects(api.postResourceOffer({ body: await signedResourceOffer(rp, resourceOffer(rp, { expiresAt: past })) }), fails("INVALID_INPUT", "offer.expiresAt"));
  await assert.rejects(api.postJobOffer({ body: await signedJobOffer(jc, jobOffer(jc, { expiresAt: past })) }), fails("INVALID_INPUT", "offer.expiresAt"));
});

test("a newer resource offer replaces the provider's older one, and an older nonce cannot come back", async (t) => {
  const { api } = await startTestSolver(t);
  const rp = account();
  await api.postResourceOffer({ body: await signedResourceOffer(rp, resourceOffer(rp, { nonce: 5n, price: 50n })) });
  const newer = await api.postResourceOffer({ body: await signedResourceOffer(rp, resourceOffer(rp, { nonce: 6n, price: 30n })) });
  assert.deepEqual((await api.listResourceOffers({})).offers.map((o) => o.id), [newer.id]);
  await assert.rejects(api.postResourceOffer({ body: await signedResourceOffer(rp, resourceOffer(rp, { nonce: 5n, price: 1n })) }), fails("CONFLICT", "offer.nonce"));
});

test("both parties' signatures make a proposed deal signed", async (t) => {
  const { api } = await startTestSolver(t);
  const { rp, jc, deal } = await proposedDeal(api);
  const half = await api.signDeal({ params: { id: deal.id }, body: { signer: jc.address, signature: await signRecord(jc, domain, "Deal", deal.deal) } });
  assert.equal(half.status, "proposed");
  const full = await api.signDeal({ params: { id: deal.id }, body: { signer: rp.address, signature: await signRecord(rp, domain, "Deal", deal.deal) } });
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
  const { api } = await startTestSolver(t);
  const { rp, jc, deal } = await proposedDeal(api);
  const mallory = account();
  const cases = [
    { says: "a third party signing as itself", signer: mallory.address, signature: await signRecord(mallory, domain, "Deal", deal.deal), field: "signer" },
    { says: "a third party signing as the provider", signer: rp.address, signature: await signRecord(mallory, domain, "Deal", deal.deal), field: "signature" },
    { says: "the job creator signing altered terms", signer: jc.address, signature: await signRecord(jc, domain, "Deal", { ...deal.deal, price: deal.deal.price - 1n }), field: "signature" },
    { says: "the provider signing terms without its collateral", signer: rp.address, signature: await signRecord(rp, domain, "Deal", { ...deal.deal, collateral: 0n }), field: "signature" },
    { says: "a malleated (high-s) job creator signature", signer: jc.address, signature: malleate(await signRecord(jc, domain, "Deal", deal.deal)), field: "signature" },
  ];
  for (const c of cases) await assert.rejects(api.signDeal({ params: { id: deal.id }, body: { signer: c.signer, signature: c.signature } }), fails("BAD_SIGNATURE", c.field), c.says);
  assert.deepEqual(await api.getDeal({ params: { id: deal.id } }), deal);
});

test("a party signs a deal once: the same signature again is a no-op, a different one a CONFLICT", async (t) => {
  const { api } = await startTestSolver(t);
  const { jc, deal } = await proposedDeal(api);
  const first = await signRecord(jc, domain, "Deal", deal.deal);
  await api.signDeal({ params: { id: deal.id }, body: { signer: jc.address, signature: first } });
  await api.signDeal({ params: { id: deal.id }, body: { signer: jc.address, signature: first } });
  setSignEntropy(true); // a second, equally valid signature over the same terms
  const second = await signRecord(jc, domain, "Deal", deal.deal);
  assert.notEqual(second, first);
  await assert.rejects(api.signDeal({ params: { id: deal.id }, body: { signer: jc.address, signature: second } }), fails("CONFLICT", "signature"));
  assert.equal((await api.getDeal({ params: { id: deal.id } })).jobCreatorSignature, first);
});

test("posting the same signed job offer twice gives one job offer and one deal", async (t) => {
  const { api } = await startTestSolver(t);
  const [rp, jc] = [account(), account()];
  await api.postResourceOffer({ body: await signedResourceOffer(rp, resourceOffer(rp)) });
  const body = await signedJobOffer(jc, jobOffer(jc));
  const a = await api.postJobOffer({ body });
  const b = await api.postJobOffer({ body });
  assert.deepEqual([b.id, b.dealIds], [a.id, a.dealIds]);
  assert.equal((await api.listDeals({ query: { jobCreator: jc.address } })).deals.length, 1);
});

test("a provider that rejects a deal is excluded and the job goes to another provider", async (t) => {
  const { api } = await startTestSolver(t);
  const [cheap, dear, jc] = [account(), account(), account()];
  await api.postResourceOffer({ body: await signedResourceOffer(cheap, resourceOffer(cheap, { price: 10n })) });
  await api.postResourceOffer({ body: await signedResourceOffer(dear, resourceOffer(dear, { price: 90n })) });
  const job = await api.postJobOffer({ body: await signedJobOffer(jc, jobOffer(jc)) });
  const first = await api.getDeal({ params: { id: job.dealIds[0]! } });
  assert.equal(first.deal.provider, cheap.address);

  const rejected = await api.postDealStatus({ params: { id: first.id }, body: await report(cheap, first.id, "rejected", { error: "busy" }) });
  assert.equal(rejected.status, "rejected");
  const after = await api.getJobOffer({ params: { id: job.id } });
  assert.equal(after.status, "matched");
  assert.notEqual(after.dealIds[0], first.id);
  assert.equal((await api.getDeal({ params: { id: after.dealIds[0]! } })).deal.provider, dear.address);
  assert.match(after.rejections[cheap.address]!, /^excluded: rejected deal 0x[0-9a-f]{64}: busy$/);
});

/** A deal whose provider (`rp`) is cheapest; `rival` is next in line for the job, and `otherDeal` is rp's deal for another job. */
interface Scene { deal: DealRecord; otherDeal: DealRecord; rp: LocalAccount; jc: LocalAccount; rival: LocalAccount; status: ReportedDealStatus; lastAt?: bigint }

const stranger = account();
/** Status reports that would end `deal` (and push `rp` out of the job) if the solver took them. */
const notTheProvidersReport: { says: string; refused: [ErrorCode, string]; needsEarlierReport?: true; body: (c: Scene) => Promise<unknown> }[] = [
  { says: "unsigned (the old body)", refused: ["INVALID_INPUT", "body.progress"], body: async (c) => ({ status: c.status, error: "busy" }) },
  { says: "a report with no signature", refused: ["INVALID_INPUT", "body.signature"], body: async (c) => ({ progress: toWire(progressReport(c.rp, c.deal.id, c.status)) }) },
  { says: "forged: in the provider's name, signed by a stranger", refused: ["BAD_SIGNATURE", "signature"], body: (c) => signedProgress(stranger, progressReport(c.rp, c.deal.id, c.status)) },
  { says: "signed by the job creator", refused: ["BAD_SIGNATURE", "signature"], body: (c) => report(c.jc, c.deal.id, c.status) },
  { says: "signed by another provider, the next in line for the job", refused: ["BAD_SIGNATURE", "signature"], body: (c) => report(c.rival, c.deal.id, c.status) },
  { says: "the provider's report on its other deal", refused: ["INVALID_INPUT", "progress.dealId"], body: (c) => report(c.rp, c.otherDeal.id, c.status) },
  { says: "signed by the provider but naming another provider", refused: ["INVALID_INPUT", "progress.provider"], body: (c) => signedProgress(c.rp, progressReport(c.rival, c.deal.id, c.status)) },
  { says: "stale: dated before the provider's last accepted report", refused: ["CONFLICT", "progress.at"], needsEarlierReport: true, body: (c) => report(c.rp, c.deal.id, c.status, { at: c.lastAt! - 1n }) },
  { says: "dated further ahead than clock skew allows", refused: ["INVALID_INPUT", "progress.at"], body: (c) => report(c.rp, c.deal.id, c.status, { at: now() + BigInt(PROGRESS_MAX_AHEAD_SECONDS) + 60n }) },
];

test("a status report not signed by the deal's provider, for this deal, now, is refused and changes nothing; the provider's own is applied", async (t) => {
  const targets = [
    { says: "a proposed deal reported rejected", status: "rejected", open: false },
    { says: "an opened deal reported timed out", status: "timed-out", open: true },
  ] as const;
  for (const target of targets) {
    await t.test(target.says, async (t) => {
      const { api } = await startTestSolver(t);
      const [rp, rival, jc] = [account(), account(), account()];
      await api.postResourceOffer({ body: await signedResourceOffer(rp, resourceOffer(rp, { price: 10n })) });
      await api.postResourceOffer({ body: await signedResourceOffer(rival, resourceOffer(rival, { price: 90n })) });
      const job = await api.postJobOffer({ body: await signedJobOffer(jc, jobOffer(jc)) });
      const otherJob = await api.postJobOffer({ body: await signedJobOffer(jc, jobOffer(jc)) });
      const [deal, otherDeal] = await Promise.all([job, otherJob].map((j) => api.getDeal({ params: { id: j.dealIds[0]! } })));
      assert.deepEqual(providersOf([deal!, otherDeal!]), [rp.address, rp.address]);
      const scene: Scene = { deal: deal!, otherDeal: otherDeal!, rp, jc, rival, status: target.status };
      if (target.open) {
        for (const party of [jc, rp]) await api.signDeal({ params: { id: deal!.id }, body: { signer: party.address, signature: await signRecord(party, domain, "Deal", deal!.deal) } });
        scene.lastAt = now() - 30n;
        await api.postDealStatus({ params: { id: deal!.id }, body: await report(rp, deal!.id, "opened", { txHash: `0x${"ab".repeat(32)}`, at: scene.lastAt }) });
      }
      const state = async () => ({
        deal: await api.getDeal({ params: { id: deal!.id } }),
        job: await api.getJobOffer({ params: { id: job.id } }),
        deals: (await api.listDeals({})).deals.map((d) => [d.id, d.status, d.updatedAt]),
      });
      const before = await state();
      assert.equal(before.deal.status, target.open ? "opened" : "proposed");

      for (const c of notTheProvidersReport.filter((c) => target.open || !c.needsEarlierReport)) {
        await t.test(c.says, async () => {
          await assert.rejects(api.postDealStatus({ params: { id: deal!.id }, body: (await c.body(scene)) as never }), fails(...c.refused));
          assert.deepEqual(await state(), before, "nothing changed: the deal, its job offer, every deal");
        });
      }

      await t.test("signed by the deal's provider, for this deal, now: applied, the provider excluded and the job re-matched", async () => {
        const genuine = await report(rp, deal!.id, target.status, { error: target.status === "rejected" ? "busy" : "" });
        const ended = await api.postDealStatus({ params: { id: deal!.id }, body: genuine });
        assert.equal(ended.status, target.status);
        assert.deepEqual(ended.progress, genuine, "the deal keeps the signed report");
        const after: JobOfferRecord = await api.getJobOffer({ params: { id: job.id } });
        assert.equal(after.status, "matched");
        assert.equal((await api.getDeal({ params: { id: after.dealIds[0]! } })).deal.provider, rival.address);
        assert.match(after.rejections[rp.address as Address]!, /^excluded: /);
        assert.equal((await api.getDeal({ params: { id: otherDeal!.id } })).status, "proposed", "its other deal is untouched");
      });
    });
  }
});

test("when no provider fits, the job offer stays open with a reason naming each provider", async (t) => {
  const { api } = await startTestSolver(t);
  const [wrongModule, tooDear, tooSmall, jc] = [account(), account(), account(), account()];
  await api.postResourceOffer({ body: await signedResourceOffer(wrongModule, resourceOffer(wrongModule, { modules: [cid("other.wasm")] })) });
  await api.postResourceOffer({ body: await signedResourceOffer(tooDear, resourceOffer(tooDear, { price: 500n })) });
  await api.postResourceOffer({ body: await signedResourceOffer(tooSmall, resourceOffer(tooSmall, { memoryMb: 128 })) });
  const job = await api.postJobOffer({ body: await signedJobOffer(jc, jobOffer(jc)) });
  assert.equal(job.status, "open");
  assert.deepEqual(job.dealIds, []);
  assert.equal(Object.keys(job.rejections).length, 3);
  assert.match(job.rejections[wrongModule.address]!, /^module: /);
  assert.match(job.rejections[tooDear.address]!, /^price: price 500 is above maxPrice 100$/);
  assert.match(job.rejections[tooSmall.address]!, /^resources: memoryMb: needs 256, 128 of 128 free$/);
});

test("deal progress follows the state machine, naming `status` when it does not", async (t) => {
  const { api } = await startTestSolver(t);
  const { rp: proposer, deal: proposed } = await proposedDeal(api);
  const txHash = `0x${"ab".repeat(32)}` as Hex;
  for (const status of ["running", "opened", "timed-out"] as const) {
    await assert.rejects(api.postDealStatus({ params: { id: proposed.id }, body: await report(proposer, proposed.id, status, { txHash }) }), fails("CONFLICT", "status"), `${status} before signed`);
  }
  const { rp, deal } = await signedDeal(api);
  const id = deal.id;
  const at = now();
  await assert.rejects(api.postDealStatus({ params: { id }, body: await report(rp, id, "opened", { at }) }), fails("INVALID_INPUT", "progress.txHash"));
  const opened = await report(rp, id, "opened", { txHash, at });
  assert.equal((await api.postDealStatus({ params: { id }, body: opened })).openTx, txHash);
  const running = await api.postDealStatus({ params: { id }, body: await report(rp, id, "running", { at }) });
  assert.equal(running.status, "running", "a report made in the same second as the last one is not stale");
  assert.equal(running.progress?.progress.status, "running", "the deal keeps the provider's last signed report");
  await assert.rejects(api.postDealStatus({ params: { id }, body: opened }), fails("CONFLICT", "status"), "a replayed report does not move it back");
  await assert.rejects(api.postDealStatus({ params: { id }, body: await report(rp, id, "rejected") }), fails("CONFLICT", "status"), "rejected once running");

  const result: Result = { dealId: id, provider: rp.address, result: cid("output"), exitCode: 0 };
  const mallory = account();
  await assert.rejects(api.postResult({ params: { id }, body: { result, signature: await signRecord(mallory, domain, "Result", result) } }), fails("BAD_SIGNATURE", "signature"));
  const elsewhere = { ...result, dealId: proposed.id };
  await assert.rejects(api.postResult({ params: { id }, body: { result: elsewhere, signature: await signRecord(rp, domain, "Result", elsewhere) } }), fails("INVALID_INPUT", "result.dealId"));
  const committed = await api.postResult({ params: { id }, body: { result, signature: await signRecord(rp, domain, "Result", result) } });
  assert.equal(committed.status, "committed");
  assert.equal(committed.result?.result.result, result.result);
  assert.deepEqual(committed.deal, deal.deal);
});

test("a proposal not signed in time is dropped; only a provider that did not sign is excluded", async (t) => {
  const cases = [
    { says: "the provider did not sign", signs: "jobCreator", rematchedTo: "other", excluded: true },
    { says: "the job creator did not sign", signs: "provider", rematchedTo: "same", excluded: false },
  ] as const;
  for (const c of cases) {
    await t.test(c.says, async (t) => {
      const { api } = await startTestSolver(t, { signWindowSeconds: 1, sweepIntervalMs: 50 });
      const [first, second, jc] = [account(), account(), account()];
      await api.postResourceOffer({ body: await signedResourceOffer(first, resourceOffer(first, { price: 10n })) });
      await api.postResourceOffer({ body: await signedResourceOffer(second, resourceOffer(second, { price: 90n })) });
      const job = await api.postJobOffer({ body: await signedJobOffer(jc, jobOffer(jc)) });
      const deal = await api.getDeal({ params: { id: job.dealIds[0]! } });
      const party = c.signs === "jobCreator" ? jc : first;
      await api.signDeal({ params: { id: deal.id }, body: { signer: party.address, signature: await signRecord(party, domain, "Deal", deal.deal) } });

      const dropped = await eventually(async () => {
        const d = await api.getDeal({ params: { id: deal.id } });
        return d.status === "rejected" ? d : undefined;
      });
      assert.match(dropped.error!, /not signed within 1s/);
      const next = await eventually(async () => {
        const j = await api.getJobOffer({ params: { id: job.id } });
        return j.status === "matched" && j.dealIds[0] !== deal.id ? j : undefined;
      });
      const nextDeal = await api.getDeal({ params: { id: next.dealIds[0]! } });
      assert.equal(nextDeal.deal.provider, (c.rematchedTo === "other" ? second : first).address);
      assert.equal(next.rejections[first.address] !== undefined, c.excluded);
    });
  }
});

test("records and open job offers survive a restart", async (t) => {
  const first = await startTestSolver(t);
  const { jc, job, deal } = await proposedDeal(first.api);
  const signed = await first.api.signDeal({ params: { id: deal.id }, body: { signer: jc.address, signature: await signRecord(jc, domain, "Deal", deal.deal) } });
  const waiting = await first.api.postJobOffer({ body: await signedJobOffer(jc, jobOffer(jc, { module: cid("rare.wasm") })) });
  assert.equal(waiting.status, "open");
  await first.solver.close();

  const { api } = await startTestSolver(t, { dbPath: first.dbPath });
  assert.deepEqual(await api.getDeal({ params: { id: deal.id } }), signed);
  assert.deepEqual(await api.getJobOffer({ params: { id: job.id } }), job);
  assert.equal((await api.getJobOffer({ params: { id: waiting.id } })).status, "open");
  const rp = account();
  await api.postResourceOffer({ body: await signedResourceOffer(rp, resourceOffer(rp, { modules: [cid("rare.wasm")] })) });
  const matched = await api.getJobOffer({ params: { id: waiting.id } });
  assert.equal(matched.status, "matched");
  assert.equal((await api.getDeal({ params: { id: matched.dealIds[0]! } })).deal.provider, rp.address);
});

test("a proposal left unsigned across a restart is dropped and re-matched as the solver starts", async (t) => {
  const slowSweep = { signWindowSeconds: 1, sweepIntervalMs: 60_000 };
  const first = await startTestSolver(t, slowSweep);
  const { rp, jc, job, deal } = await proposedDeal(first.api);
  const other = account();
  await first.api.postResourceOffer({ body: await signedResourceOffer(other, resourceOffer(other, { price: 99n })) });
  await first.api.signDeal({ params: { id: deal.id }, body: { signer: jc.address, signature: await signRecord(jc, domain, "Deal", deal.deal) } });
  await first.solver.close();
  await new Promise((r) => setTimeout(r, 1100));

  const { api } = await startTestSolver(t, { ...slowSweep, dbPath: first.dbPath });
  assert.equal((await api.getDeal({ params: { id: deal.id } })).status, "rejected");
  const rematched = await api.getJobOffer({ params: { id: job.id } });
  assert.equal((await api.getDeal({ params: { id: rematched.dealIds[0]! } })).deal.provider, other.address);
  assert.match(rematched.rejections[rp.address]!, /^excluded: did not sign deal/);
});

test("WebSocket subscribers receive the proposal and the job offer's change", async (t) => {
  const { solver, api } = await startTestSolver(t);
  const [rp, jc] = [account(), account()];
  const seen = { provider: [] as LilyEvent[], jobCreator: [] as LilyEvent[] };
  for (const [who, address] of [["provider", rp.address], ["jobCreator", jc.address]] as const) {
    await new Promise<void>((opened) => {
      const sub = subscribe(solver.url, { [who]: address }, (ev) => seen[who].push(ev), { onOpen: opened });
      t.after(() => sub.close());
    });
  }
  await api.postResourceOffer({ body: await signedResourceOffer(rp, resourceOffer(rp)) });
  const job = await api.postJobOffer({ body: await signedJobOffer(jc, jobOffer(jc)) });

  const proposal = await eventually(async () => seen.provider.find((e) => e.type === "deal"));
  assert.ok(proposal.type === "deal");
  assert.deepEqual([proposal.record.id, proposal.record.status, proposal.record.deal.provider], [job.dealIds[0], "proposed", rp.address]);
  const matched = await eventually(async () => seen.jobCreator.find((e) => e.type === "job-offer" && e.record.status === "matched"));
  assert.equal(matched.record.id, job.id);
});

// --- replicate(k) ---

const mediator = account().address;
const replicateJob = (jc: LocalAccount, k: number) => jobOffer(jc, { policy: 2, policyParam: BigInt(k), mediationFee: 5n, mediators: [mediator] });

/** n providers, cheapest first (prices 10, 20, ...), and a replicate(k) job offer matched to k of them. */
async function replicaGroup(api: Api, k: number, n: number) {
  const providers = Array.from({ length: n }, () => account());
  for (const [i, rp] of providers.entries()) {
    await api.postResourceOffer({ body: await signedResourceOffer(rp, resourceOffer(rp, { price: BigInt(10 * (i + 1)), mediators: [mediator] })) });
  }
  const jc = account();
  const job = await api.postJobOffer({ body: await signedJobOffer(jc, replicateJob(jc, k)) });
  const deals = await Promise.all(job.dealIds.map((id) => api.getDeal({ params: { id } })));
  return { providers, jc, job, deals };
}

const providersOf = (deals: { deal: { provider: string } }[]) => deals.map((d) => d.deal.provider);

test("replicate(3) with 4 offers: 3 proposals for one job offer, 3 distinct providers, the cheapest three", async (t) => {
  const { api } = await startTestSolver(t);
  const { providers, job, deals } = await replicaGroup(api, 3, 4);
  assert.equal(job.status, "matched");
  assert.equal(deals.length, 3);
  assert.deepEqual(providersOf(deals), providers.slice(0, 3).map((p) => p.address));
  for (const d of deals) {
    assert.deepEqual([d.status, d.jobOfferId, d.deal.jobOffer, d.deal.policy, d.deal.policyParam, d.deal.mediationFee], ["proposed", job.id, job.id, 2, 3n, 5n]);
    assert.equal(d.deal.mediators, deals[0]!.deal.mediators);
  }
});

test("replicate(3) with 2 providers that fit: no proposals, and the job offer says why", async (t) => {
  const { api } = await startTestSolver(t);
  const tooDear = account();
  await api.postResourceOffer({ body: await signedResourceOffer(tooDear, resourceOffer(tooDear, { price: 500n, mediators: [mediator] })) });
  const { job } = await replicaGroup(api, 3, 2);
  assert.deepEqual([job.status, job.dealIds], ["open", []]);
  assert.equal(job.rejections["*"], "replicate: needs 3 distinct providers, 2 fit");
  assert.match(job.rejections[tooDear.address]!, /^price: /);
  assert.deepEqual((await api.listDeals({})).deals, []);
});

/** What breaks a group before it opens: the culprit replica is `deals[1]`. */
const breakers: { says: string; opts?: Partial<SolverOptions>; culpritError: RegExp; run: (api: Api, g: Awaited<ReturnType<typeof replicaGroup>>) => Promise<void> }[] = [
  {
    says: "its provider rejects it",
    culpritError: /^busy$/,
    run: async (api, { providers, deals }) => void (await api.postDealStatus({ params: { id: deals[1]!.id }, body: await report(providers[1]!, deals[1]!.id, "rejected", { error: "busy" }) })),
  },
  {
    says: "its provider does not sign within the sign window, while the others did",
    opts: { signWindowSeconds: 1, sweepIntervalMs: 50 },
    culpritError: /^not signed within 1s by the provider$/,
    run: async (api, { jc, providers, deals }) => {
      for (const d of deals) await api.signDeal({ params: { id: d.id }, body: { signer: jc.address, signature: await signRecord(jc, domain, "Deal", d.deal) } });
      for (const i of [0, 2]) {
        const rp = providers[i]!;
        await api.signDeal({ params: { id: deals[i]!.id }, body: { signer: rp.address, signature: await signRecord(rp, domain, "Deal", deals[i]!.deal) } });
      }
    },
  },
];

test("a replica group breaks as a unit before it opens: the others are dropped, the job re-matched without the culprit", async (t) => {
  for (const c of breakers) {
    await t.test(c.says, async (t) => {
      const { api } = await startTestSolver(t, c.opts);
      const group = await replicaGroup(api, 3, 4);
      const { providers, job, deals } = group;
      const culprit = deals[1]!;
      await c.run(api, group);

      const rematched = await eventually(async () => {
        const j = await api.getJobOffer({ params: { id: job.id } });
        return j.status === "matched" && !j.dealIds.includes(culprit.id) ? j : undefined;
      });
      assert.match((await api.getDeal({ params: { id: culprit.id } })).error!, c.culpritError);
      for (const other of [deals[0]!, deals[2]!]) {
        const d = await api.getDeal({ params: { id: other.id } });
        assert.equal(d.status, "rejected");
        assert.match(d.error!, new RegExp(`^replica group broken: .*deal ${culprit.id}`));
      }
      const next = await Promise.all(rematched.dealIds.map((id) => api.getDeal({ params: { id } })));
      assert.deepEqual(providersOf(next), [0, 2, 3].map((i) => providers[i]!.address), "the culprit excluded, the others re-proposed");
      assert.ok(next.every((d) => d.status === "proposed" && !deals.some((old) => old.id === d.id)), "new deals, new ids");
      assert.match(rematched.rejections[providers[1]!.address]!, /^excluded: /);
    });
  }
});

/** Once a replica has opened, the contract settles the group: nothing ending afterwards reopens the job offer. */
const afterOpen: { says: string; ended: number; status: ReportedDealStatus; error?: string }[] = [
  { says: "another replica's provider rejects it", ended: 1, status: "rejected", error: "busy" },
  { says: "the opened replica times out", ended: 0, status: "timed-out" },
];

test("after one replica opened, a replica ending does not reopen the job offer; the others run on", async (t) => {
  for (const c of afterOpen) {
    await t.test(c.says, async (t) => {
      const { api } = await startTestSolver(t);
      const { providers, jc, job, deals } = await replicaGroup(api, 3, 4);
      for (const [i, d] of deals.entries()) {
        for (const party of [jc, providers[i]!]) await api.signDeal({ params: { id: d.id }, body: { signer: party.address, signature: await signRecord(party, domain, "Deal", d.deal) } });
      }
      await api.postDealStatus({ params: { id: deals[0]!.id }, body: await report(providers[0]!, deals[0]!.id, "opened", { txHash: `0x${"ab".repeat(32)}` }) });
      const ending = deals[c.ended]!;
      await api.postDealStatus({ params: { id: ending.id }, body: await report(providers[c.ended]!, ending.id, c.status, c.error === undefined ? {} : { error: c.error }) });

      const after = await api.getJobOffer({ params: { id: job.id } });
      assert.deepEqual([after.status, after.dealIds], ["matched", job.dealIds]);
      const statuses = await Promise.all(deals.map(async (d) => (await api.getDeal({ params: { id: d.id } })).status));
      const expected = ["opened", "signed", "signed"];
      expected[c.ended] = c.status;
      assert.deepEqual(statuses, expected);
      assert.equal((await api.listDeals({})).deals.length, 3, "no new proposals");
    });
  }
});

test("a replicated job offer keeps its dealIds across a restart", async (t) => {
  const first = await startTestSolver(t);
  const { job } = await replicaGroup(first.api, 3, 3);
  await first.solver.close();
  const { api } = await startTestSolver(t, { dbPath: first.dbPath });
  const after = await api.getJobOffer({ params: { id: job.id } });
  assert.equal(after.dealIds.length, 3);
  assert.deepEqual(after, job);
});
