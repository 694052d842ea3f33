// replicate(k) over HTTP: a job offer is matched to a group of k deals with k distinct providers,
// each deal naming the whole group (signed into its terms), and the group breaks or runs as a unit.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import type { LocalAccount } from "viem";
import { replicaGroupHash, sortedAddresses, type DealRecord, type ReportedDealStatus } from "@lily/protocol";
import type { SolverOptions } from "../src/index.ts";
import { startTestChain, startTestSolver, parties, resourceOffer, jobOffer, signer, signBoth, eventually, type Api, type TestChain } from "./harness.ts";

let chain: TestChain;
before(async () => {
  chain = await startTestChain();
});
after(() => chain.stop());

const providersOf = (deals: { deal: { provider: string } }[]) => deals.map((d) => d.deal.provider);

/** n funded providers, cheapest first (prices 10, 20, ...), and a replicate(k) job offer matched to k of them. */
async function replicaGroup(api: Api, k: number, n: number) {
  const sign = signer(chain.domain);
  const names = Array.from({ length: n }, (_, i) => `rp${i}`);
  const p = await parties(chain, [...names, "jc", "mediator"], ["mediator"]);
  const providers = names.map((name) => p[name]!);
  const mediator = p.mediator.address;
  for (const [i, rp] of providers.entries()) {
    await api.postResourceOffer({ body: await sign.resourceOffer(rp, resourceOffer(rp, { price: BigInt(10 * (i + 1)), mediators: [mediator] })) });
  }
  const jc = p.jc;
  const job = await api.postJobOffer({
    body: await sign.jobOffer(jc, jobOffer(jc, { policy: 2, policyParam: BigInt(k), mediationFee: 5n, mediators: [mediator] })),
  });
  const deals = await Promise.all(job.dealIds.map((id) => api.getDeal({ params: { id } })));
  return { providers, jc, job, deals, mediator };
}

test("replicate(3) with 4 offers: 3 proposals for one job offer, 3 distinct providers, the cheapest three, each naming the group", async (t) => {
  const { api } = await startTestSolver(t, chain);
  const { providers, job, deals } = await replicaGroup(api, 3, 4);
  assert.equal(job.status, "matched");
  assert.deepEqual(
    providersOf(deals),
    providers.slice(0, 3).map((p) => p.address),
  );
  const group = sortedAddresses(providers.slice(0, 3).map((p) => p.address));
  for (const d of deals) {
    assert.deepEqual(
      [d.status, d.jobOfferId, d.deal.jobOffer, d.deal.policy, d.deal.policyParam, d.deal.mediationFee],
      ["proposed", job.id, job.id, 2, 3n, 5n],
    );
    assert.deepEqual(d.group, group);
    assert.equal(d.deal.replicas, replicaGroupHash(group));
    assert.deepEqual([d.deal.mediators, d.deal.openBy], [deals[0]!.deal.mediators, deals[0]!.deal.openBy]);
  }
});

test("replicate(3) with 2 providers that fit: no proposals, and the job offer says why", async (t) => {
  const { api } = await startTestSolver(t, chain);
  const sign = signer(chain.domain);
  const { tooDear } = await parties(chain, ["tooDear"]);
  const { job, mediator } = await replicaGroup(api, 3, 2);
  await api.postResourceOffer({ body: await sign.resourceOffer(tooDear, resourceOffer(tooDear, { price: 500n, mediators: [mediator] })) });
  const after = await api.getJobOffer({ params: { id: job.id } });
  assert.deepEqual([after.status, after.dealIds], ["open", []]);
  assert.equal(after.rejections["*"], "replicate: needs 3 distinct providers, 2 fit");
  assert.match(after.rejections[tooDear.address]!, /^price: /);
  assert.deepEqual((await api.listDeals({})).deals, []);
});

type Group = Awaited<ReturnType<typeof replicaGroup>>;
/** What breaks a group before it opens: the culprit replica is `deals[1]`. */
const breakers: {
  says: string;
  opts?: Partial<SolverOptions>;
  culpritError: RegExp;
  othersError: (culprit: DealRecord) => RegExp;
  culpritOffBook: boolean;
  run: (api: Api, g: Group) => Promise<void>;
}[] = [
  {
    says: "its provider rejects it",
    culpritError: /^busy$/,
    othersError: (culprit) => new RegExp(`^replica group broken: .*deal ${culprit.id}`),
    culpritOffBook: false,
    run: async (api, { providers, deals }) =>
      void (await api.postDealStatus({
        params: { id: deals[1]!.id },
        body: await signer(chain.domain).report(providers[1]!, deals[1]!.id, "rejected", { error: "busy" }),
      })),
  },
  {
    says: "its provider does not sign before openBy, while the others did",
    opts: { signWindowSeconds: 2 },
    culpritError: /^not signed by the provider before its openBy$/,
    othersError: () => /^not opened by its openBy$/,
    culpritOffBook: true,
    run: async (api, { jc, providers, deals }) => {
      for (const d of deals) await signBoth(api, chain.domain, d.id, jc);
      for (const i of [0, 2]) await signBoth(api, chain.domain, deals[i]!.id, providers[i]!);
    },
  },
];

test("a replica group breaks as a unit before it opens: the others are dropped, the job re-matched without the culprit", async (t) => {
  for (const c of breakers) {
    await t.test(c.says, async (t) => {
      const { api } = await startTestSolver(t, chain, c.opts);
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
        assert.match(d.error!, c.othersError(culprit));
      }
      const next = await Promise.all(rematched.dealIds.map((id) => api.getDeal({ params: { id } })));
      assert.deepEqual(
        providersOf(next),
        [0, 2, 3].map((i) => providers[i]!.address),
        "the culprit excluded, the others re-proposed",
      );
      assert.ok(
        next.every((d) => d.status === "proposed" && !deals.some((old) => old.id === d.id)),
        "new deals, new ids",
      );
      assert.ok(
        next.every((d) => d.deal.openBy > deals[0]!.deal.openBy),
        "a later openBy, so no deal id repeats",
      );
      if (c.culpritOffBook)
        assert.ok(!(await api.listResourceOffers({})).offers.some((o) => o.offer.provider === providers[1]!.address), "its offer is off the book");
      else assert.match(rematched.rejections[providers[1]!.address]!, /^excluded: /);
    });
  }
});

/** Once the group is on chain, the contract settles it: nothing ending afterwards reopens the job offer. */
const afterOpen: { says: string; ended: number; status: ReportedDealStatus; error?: string }[] = [
  { says: "another replica's provider rejects it", ended: 1, status: "rejected", error: "busy" },
  { says: "the opened replica times out", ended: 0, status: "timed-out" },
];

test("after a replica opened, a replica ending does not reopen the job offer; the others run on", async (t) => {
  for (const c of afterOpen) {
    await t.test(c.says, async (t) => {
      const { api } = await startTestSolver(t, chain);
      const sign = signer(chain.domain);
      const { providers, jc, job, deals } = await replicaGroup(api, 3, 4);
      for (const [i, d] of deals.entries()) await signBoth(api, chain.domain, d.id, jc, providers[i] as LocalAccount);
      await api.postDealStatus({
        params: { id: deals[0]!.id },
        body: await sign.report(providers[0]!, deals[0]!.id, "opened", { txHash: `0x${"ab".repeat(32)}` }),
      });
      const ending = deals[c.ended]!;
      await api.postDealStatus({
        params: { id: ending.id },
        body: await sign.report(providers[c.ended]!, ending.id, c.status, c.error === undefined ? {} : { error: c.error }),
      });

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

test("a replicated job offer keeps its dealIds and group across a restart", async (t) => {
  const first = await startTestSolver(t, chain);
  const { job, deals } = await replicaGroup(first.api, 3, 3);
  await first.solver.close();
  const { api } = await startTestSolver(t, chain, { dbPath: first.dbPath });
  assert.deepEqual(await api.getJobOffer({ params: { id: job.id } }), job);
  assert.deepEqual(await api.getDeal({ params: { id: deals[0]!.id } }), deals[0]);
});
