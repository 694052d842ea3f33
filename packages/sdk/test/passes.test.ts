// How often the job creator's wait loop reads the world, and that it still acts on its own in time.
// While the solver's change subscription is open a pass starts on news or on a deadline the view
// names, not on every poll tick: a job whose provider takes seconds at each step costs the same
// few passes as a quick one. With a poll timer that never fires during the test, the steps that
// depend on the clock rather than on an event (giving up at the match timeout, opening a signed
// deal no provider opened after the open grace) still happen.
import { test, before, after, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { parseEther, type Hex } from "viem";
import { dealState } from "@lily/chain";
import { isLilyError } from "@lily/protocol";
import { createJobCreator, memoryJournal, type JobCreator, type SubmitDefaults } from "../src/index.ts";
import { PRICE, eventually, startNetwork, type Network } from "./network.ts";
import { tempDir } from "../../../test/support/tempDir.ts";

/** A poll interval no test lasts: every pass in these tests is one an event or a deadline started. */
const NEVER = 600_000;

let net: Network;
before(async () => {
  net = await startNetwork({ pollMs: NEVER, fallbackPollMs: NEVER });
});
after(() => net.stop());

const cowsay = (message: string) => ({ module: "cowsay@1.0.0", inputs: { message }, maxPrice: PRICE, mediationFee: parseEther("1") });
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A second job creator on the same account and network, with its own wait settings. */
function jobCreatorWith(submit: Partial<SubmitDefaults>): JobCreator {
  return createJobCreator({ ...net.endpoints, account: net.jobCreator, mediators: [net.mediator] }, { journal: memoryJournal(), submit });
}

/**
 * Count the wait loop's passes: each reads the job offer while nothing is signed, and the signed
 * deal once after (one deal per job here); the solver calls that make up a pass are counted too.
 */
function countPasses(jc: JobCreator): { passes: number; solverReads: number } {
  const counts = { passes: 0, solverReads: 0 };
  const real = jc.context.solver;
  jc.context.solver = {
    ...real,
    getJobOffer: (i) => {
      counts.passes++;
      counts.solverReads++;
      return real.getJobOffer(i);
    },
    getDeal: (i) => {
      counts.solverReads++;
      if (jc.context.journal.list().some((e) => e.dealId?.toLowerCase() === i.params.id.toLowerCase())) counts.passes++;
      return real.getDeal(i);
    },
  };
  return counts;
}

function follow(t: TestContext, jc: JobCreator, jobOfferId: Hex, o: { matchTimeoutMs?: number } = {}) {
  const stop = new AbortController();
  t.after(() => stop.abort());
  const result = jc.waitForResult({ jobOfferId, outDir: tempDir("lily-sdk-out-"), signal: stop.signal, ...o });
  result.catch(() => {});
  return result;
}

test("with the default poll interval, a job whose provider takes seconds at each step costs no more passes than its events", async (t) => {
  for (const p of net.providers) await p.offer();
  const jc = jobCreatorWith({});
  const counts = countPasses(jc);
  const jobs = 2;
  for (let i = 0; i < jobs; i++) {
    const job = await jc.submitJob(cowsay(`slow ${i}`));
    const result = follow(t, jc, job.jobOfferId);
    const proposal = await eventually(async () => {
      const { dealIds } = await net.solver.getJobOffer({ params: { id: job.jobOfferId } });
      return dealIds[0] ? net.solver.getDeal({ params: { id: dealIds[0] } }) : undefined;
    });
    const provider = net.providerOf(proposal.deal.provider);
    // A loaded provider: each of its steps comes seconds after the last (several poll intervals).
    await pause(1_500);
    await provider.sign(proposal);
    await eventually(async () => ((await net.solver.getDeal({ params: { id: proposal.id } })).jobCreatorSignature ? true : undefined));
    await pause(1_500);
    await provider.open(proposal);
    await pause(1_500);
    await provider.commit(proposal, `moo ${i}\n`);
    const r = await result;
    assert.deepEqual([r.dealId, r.stdout], [proposal.id, `moo ${i}\n`]);
  }
  // The events that bring news: the provider's signature, the opening, the commit, the signed
  // result; plus the first read. Polling every 500 ms over the ~5 s of each job added ~10 more.
  const perJob = counts.passes / jobs;
  t.diagnostic(`${counts.passes} passes, ${counts.solverReads} solver reads for ${jobs} jobs`);
  assert.ok(perJob <= 6, `${counts.passes} passes (${counts.solverReads} solver reads) for ${jobs} jobs`);
});

test("with a poll timer that never fires, a proposal no provider signs ends in NO_MATCH at the match timeout", async (t) => {
  for (const p of net.providers) await p.offer();
  const job = await net.jc.submitJob(cowsay("nobody signs"));
  const started = Date.now();
  const e = await follow(t, net.jc, job.jobOfferId, { matchTimeoutMs: 2_000 }).then(
    () => assert.fail("expected NO_MATCH"),
    (err: unknown) => err,
  );
  assert.ok(isLilyError(e, "NO_MATCH"), String(e));
  // The solver's own sign window (8 s) would end the proposal, with an event, much later.
  assert.ok(Date.now() - started < 6_000, `gave up after ${Date.now() - started} ms`);
  assert.equal((await net.solver.getJobOffer({ params: { id: job.jobOfferId } })).status, "cancelled");
});

test("with a poll timer that never fires, a signed deal no provider opens is opened by the job creator after the open grace", async (t) => {
  for (const p of net.providers) await p.offer();
  const job = await net.jc.submitJob(cowsay("open it yourself"));
  const result = follow(t, net.jc, job.jobOfferId);
  const proposal = await eventually(async () => {
    const { dealIds } = await net.solver.getJobOffer({ params: { id: job.jobOfferId } });
    return dealIds[0] ? net.solver.getDeal({ params: { id: dealIds[0] } }) : undefined;
  });
  const provider = net.providerOf(proposal.deal.provider);
  await provider.sign(proposal);
  // No event follows the job creator's own signature: only the open grace (2 s here) can start the pass that opens.
  await eventually(async () => ((await dealState(net.deployer, { dealId: proposal.id })) === "open" ? true : undefined), 10_000);
  await provider.commit(proposal, "opened for me\n");
  const r = await result;
  assert.deepEqual([r.dealId, r.stdout], [proposal.id, "opened for me\n"]);
});
