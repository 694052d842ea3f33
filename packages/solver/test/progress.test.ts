// Only a deal's provider can report its progress, and so end its deal and push itself out of the
// job: a report not signed by it, for this deal, now, is refused and changes nothing.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import type { Address, LocalAccount } from "viem";
import { toWire, type DealRecord, type ErrorCode, type JobOfferRecord, type ReportedDealStatus } from "@lily/protocol";
import { PROGRESS_MAX_AHEAD_SECONDS } from "../src/index.ts";
import { startTestChain, startTestSolver, parties, account, resourceOffer, jobOffer, signer, signBoth, fails, now, type TestChain } from "./harness.ts";

let chain: TestChain;
before(async () => {
  chain = await startTestChain();
});
after(() => chain.stop());

/** A deal whose provider (`rp`) is cheapest; `rival` is next in line for the job, and `otherDeal` is rp's deal for another job. */
interface Scene {
  deal: DealRecord;
  otherDeal: DealRecord;
  rp: LocalAccount;
  jc: LocalAccount;
  rival: LocalAccount;
  status: ReportedDealStatus;
  lastAt?: bigint;
}

const stranger = account();
const sign = () => signer(chain.domain);
/** Status reports that would end `deal` (and push `rp` out of the job) if the solver took them. */
const notTheProvidersReport: { says: string; refused: [ErrorCode, string]; needsEarlierReport?: true; body: (c: Scene) => Promise<unknown> }[] = [
  { says: "unsigned (the old body)", refused: ["INVALID_INPUT", "body.progress"], body: async (c) => ({ status: c.status, error: "busy" }) },
  {
    says: "a report with no signature",
    refused: ["INVALID_INPUT", "body.signature"],
    body: async (c) => ({ progress: toWire(sign().progressReport(c.rp, c.deal.id, c.status)) }),
  },
  {
    says: "forged: in the provider's name, signed by a stranger",
    refused: ["BAD_SIGNATURE", "signature"],
    body: (c) => sign().signedProgress(stranger, sign().progressReport(c.rp, c.deal.id, c.status)),
  },
  { says: "signed by the job creator", refused: ["BAD_SIGNATURE", "signature"], body: (c) => sign().report(c.jc, c.deal.id, c.status) },
  {
    says: "signed by another provider, the next in line for the job",
    refused: ["BAD_SIGNATURE", "signature"],
    body: (c) => sign().report(c.rival, c.deal.id, c.status),
  },
  {
    says: "the provider's report on its other deal",
    refused: ["INVALID_INPUT", "progress.dealId"],
    body: (c) => sign().report(c.rp, c.otherDeal.id, c.status),
  },
  {
    says: "signed by the provider but naming another provider",
    refused: ["INVALID_INPUT", "progress.provider"],
    body: (c) => sign().signedProgress(c.rp, sign().progressReport(c.rival, c.deal.id, c.status)),
  },
  {
    says: "stale: dated before the provider's last accepted report",
    refused: ["CONFLICT", "progress.at"],
    needsEarlierReport: true,
    body: (c) => sign().report(c.rp, c.deal.id, c.status, { at: c.lastAt! - 1n }),
  },
  {
    says: "dated further ahead than clock skew allows",
    refused: ["INVALID_INPUT", "progress.at"],
    body: (c) => sign().report(c.rp, c.deal.id, c.status, { at: now() + BigInt(PROGRESS_MAX_AHEAD_SECONDS) + 60n }),
  },
];

test("a status report not signed by the deal's provider, for this deal, now, is refused and changes nothing; the provider's own is applied", async (t) => {
  const targets = [
    { says: "a proposed deal reported rejected", status: "rejected", open: false },
    { says: "an opened deal reported timed out", status: "timed-out", open: true },
  ] as const;
  for (const target of targets) {
    await t.test(target.says, async (t) => {
      const { api } = await startTestSolver(t, chain);
      const { rp, rival, jc } = await parties(chain, ["rp", "rival", "jc"]);
      await api.postResourceOffer({ body: await sign().resourceOffer(rp, resourceOffer(rp, { price: 10n })) });
      await api.postResourceOffer({ body: await sign().resourceOffer(rival, resourceOffer(rival, { price: 90n })) });
      const job = await api.postJobOffer({ body: await sign().jobOffer(jc, jobOffer(jc)) });
      const otherJob = await api.postJobOffer({ body: await sign().jobOffer(jc, jobOffer(jc)) });
      const [deal, otherDeal] = await Promise.all([job, otherJob].map((j) => api.getDeal({ params: { id: j.dealIds[0]! } })));
      assert.deepEqual([deal!.deal.provider, otherDeal!.deal.provider], [rp.address, rp.address]);
      const scene: Scene = { deal: deal!, otherDeal: otherDeal!, rp, jc, rival, status: target.status };
      if (target.open) {
        await signBoth(api, chain.domain, deal!.id, jc, rp);
        scene.lastAt = now() - 30n;
        await api.postDealStatus({
          params: { id: deal!.id },
          body: await sign().report(rp, deal!.id, "opened", { txHash: `0x${"ab".repeat(32)}`, at: scene.lastAt }),
        });
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
        const genuine = await sign().report(rp, deal!.id, target.status, { error: target.status === "rejected" ? "busy" : "" });
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
