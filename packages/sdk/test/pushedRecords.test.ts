// The records a job's events bring serve the wait loop's next read of them, once each, instead of
// the loop asking the solver again; a record that does not validate, or one kept from before the
// job creator's own write about it, is never served (the solver is asked, as before).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { parseEther } from "viem";
import type { Client, SolverRoutes } from "@lily/api";
import { toWire, type DealRecord, type JobOfferRecord } from "@lily/protocol";
import { memoryJournal, createJobCreator, type JobCreator } from "../src/index.ts";
import { pushedRecords } from "../src/pushedRecords.ts";
import { eventually, startNetwork, PRICE, type Network } from "./network.ts";
import { tempDir } from "../../../test/support/tempDir.ts";

let net: Network;
before(async () => {
  net = await startNetwork();
});
after(() => net.stop());

/** Counts the job creator's reads that reach the solver, by record id. */
function countSolverReads(jc: JobCreator): Map<string, number> {
  const reads = new Map<string, number>();
  const bump = (id: string) => reads.set(id.toLowerCase(), (reads.get(id.toLowerCase()) ?? 0) + 1);
  const real = jc.context.solver;
  jc.context.solver = {
    ...real,
    getDeal: (i) => {
      bump(i.params.id);
      return real.getDeal(i);
    },
    getJobOffer: (i) => {
      bump(i.params.id);
      return real.getJobOffer(i);
    },
  };
  return reads;
}

/** A finished job's records as the solver holds them, and how often the job creator read each from it. */
async function runCountedJob(message: string, opts: { posted?: boolean } = {}): Promise<{ deal: DealRecord; job: JobOfferRecord; reads: Map<string, number> }> {
  for (const p of net.providers) await p.offer();
  const jc = createJobCreator({ ...net.endpoints, account: net.jobCreator, mediators: [net.mediator] }, { journal: memoryJournal() });
  const reads = countSolverReads(jc);
  const submitted = await jc.submitJob({ module: "cowsay@1.0.0", inputs: { message }, maxPrice: PRICE, mediationFee: parseEther("1") });
  const result = jc.waitForResult({
    jobOfferId: submitted.jobOfferId,
    outDir: tempDir("lily-sdk-out-"),
    ...(opts.posted && { posted: submitted.posted }),
  });
  result.catch(() => {});
  const proposal = await eventually(async () => {
    const { dealIds } = await net.solver.getJobOffer({ params: { id: submitted.jobOfferId } });
    return dealIds[0] ? net.solver.getDeal({ params: { id: dealIds[0] } }) : undefined;
  });
  const provider = net.providerOf(proposal.deal.provider);
  await provider.sign(proposal);
  await eventually(async () => ((await net.solver.getDeal({ params: { id: proposal.id } })).jobCreatorSignature ? true : undefined));
  await provider.open(proposal);
  await provider.commit(proposal, `moo ${message}\n`);
  assert.equal((await result).stdout, `moo ${message}\n`);
  return {
    deal: await net.solver.getDeal({ params: { id: proposal.id } }),
    job: await net.solver.getJobOffer({ params: { id: submitted.jobOfferId } }),
    reads,
  };
}

test("a job's passes read its deal from the solver only where no event brought it", async () => {
  const { deal, job, reads } = await runCountedJob("pushed");
  // Three passes ask the solver: the first (the job's events began before its subscription), the
  // one when the subscription opens (what it missed), and the one after the job creator's own
  // signature (the write's echo may have come before the write ended). The passes the provider's
  // commit and the settlement wake take the deal from their events (before: 5 reads).
  const dealReads = reads.get(deal.id.toLowerCase()) ?? 0;
  assert.ok(dealReads <= 3, `the deal was read from the solver ${dealReads} times`);
  // Before a proposal the job offer is read on the first pass and when the stream opens; the pass
  // that signs takes it from the event that matched it.
  const jobReads = reads.get(job.id.toLowerCase()) ?? 0;
  assert.ok(jobReads <= 2, `the job offer was read from the solver ${jobReads} times`);
});

test("given the post's answer, the first pass reads the job offer from it: the solver is asked for it once, when the stream opens", async () => {
  const { job, reads } = await runCountedJob("posted", { posted: true });
  const jobReads = reads.get(job.id.toLowerCase()) ?? 0;
  assert.ok(jobReads <= 1, `the job offer was read from the solver ${jobReads} times`);
});

/** A solver client that answers reads with `record` and counts what reached it. */
function countingSolver(answers: { deal: DealRecord; job: JobOfferRecord }) {
  const calls: string[] = [];
  let release: () => void = () => {};
  const solver = {
    getDeal: async () => {
      calls.push("getDeal");
      return answers.deal;
    },
    getJobOffer: async () => {
      calls.push("getJobOffer");
      return answers.job;
    },
    signDeal: () => {
      calls.push("signDeal");
      return new Promise((resolve) => (release = () => resolve(answers.deal)));
    },
    cancelJobOffer: async () => {
      calls.push("cancelJobOffer");
      return answers.job;
    },
  } as unknown as Client<SolverRoutes>;
  return { solver, calls, endSignDeal: () => release() };
}

test("a pushed record serves one read, validated; the next read and a read of another kind ask the solver", async () => {
  const { deal, job } = await runCountedJob("once");
  const inner = countingSolver({ deal, job });
  const { records, solver } = pushedRecords(inner.solver);
  const pushedDeal = { ...deal, status: "running" as const };
  records.put(toWire({ type: "deal", record: pushedDeal }));
  const read = await solver.getDeal({ params: { id: deal.id } });
  assert.equal(read.status, "running", "the pushed record was served");
  assert.equal(typeof read.deal.price, "bigint", "the pushed record was parsed as the solver's answer is");
  assert.deepEqual(inner.calls, []);
  assert.equal((await solver.getDeal({ params: { id: deal.id } })).status, deal.status, "a second read asks the solver");
  // A deal's record never answers for a job offer, even one with the same id.
  records.put(toWire({ type: "deal", record: { ...deal, id: job.id } }));
  assert.equal((await solver.getJobOffer({ params: { id: job.id } })).id, job.id);
  assert.deepEqual(inner.calls, ["getDeal", "getJobOffer"]);
});

test("a pushed record that does not validate, or that a stream drop cleared, is not served: the solver is asked", async () => {
  const { deal, job } = await runCountedJob("invalid");
  const inner = countingSolver({ deal, job });
  const { records, solver } = pushedRecords(inner.solver);
  records.put({ type: "deal", record: { ...(toWire(deal) as object), providerSignature: "0x1234" } });
  assert.equal((await solver.getDeal({ params: { id: deal.id } })).providerSignature, deal.providerSignature);
  records.put(toWire({ type: "job-offer", record: { ...job, status: "matched" } }));
  records.clear();
  await solver.getJobOffer({ params: { id: job.id } });
  records.put("not an event");
  records.put(null);
  records.put({ type: "deal", record: { id: 7 } });
  await solver.getDeal({ params: { id: deal.id } });
  assert.deepEqual(inner.calls, ["getDeal", "getJobOffer", "getDeal"]);
});

test("a record kept from before the job creator's own signature is dropped when the write ends, even one that came while it was on the way", async () => {
  const { deal, job } = await runCountedJob("write");
  const inner = countingSolver({ deal, job });
  const { records, solver } = pushedRecords(inner.solver);
  const before = { ...deal, status: "proposed" as const, jobCreatorSignature: undefined };
  records.put(toWire({ type: "deal", record: before }));
  const writing = solver.signDeal({ params: { id: deal.id }, body: { signer: deal.deal.jobCreator, signature: deal.jobCreatorSignature! } });
  records.put(toWire({ type: "deal", record: before }));
  inner.endSignDeal();
  await writing;
  const read = await solver.getDeal({ params: { id: deal.id } });
  assert.equal(read.jobCreatorSignature, deal.jobCreatorSignature, "the read after the write sees the signature");
  assert.deepEqual(inner.calls, ["signDeal", "getDeal"]);
  // The same for a withdrawal of the job offer.
  records.put(toWire({ type: "job-offer", record: { ...job, status: "open" } }));
  await solver.cancelJobOffer({ params: { id: job.id }, body: {} as never });
  assert.equal((await solver.getJobOffer({ params: { id: job.id } })).status, job.status);
  assert.deepEqual(inner.calls, ["signDeal", "getDeal", "cancelJobOffer", "getJobOffer"]);
});
