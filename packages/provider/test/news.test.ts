// Which solver events start a provider pass: only those that bring it news (newsFilter.ts). The
// pure rule, and a provider whose poll timer never fires during the test, so that every pass it
// makes is one an event started: its jobs still get signed, opened, run and paid, and the echoes
// of its own steps (its signature, its reports, its result) start none.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createClient, solverRoutes, type ChangeHint, type Client, type SolverRoutes } from "@lily/api";
import { isEcho } from "../src/newsFilter.ts";
import { PRICE, eventually, startNetwork } from "./network.ts";

const deal = (status: string): ChangeHint => ({ type: "deal", id: "0x01", status });

test("an event is news unless the provider's own record shows it already acted on it", () => {
  // A deal the provider has no record of is a proposal to check.
  for (const s of ["proposed", "signed", "opened", "rejected"]) assert.equal(isEcho(deal(s), undefined), false, s);
  // Signed and waiting: the job creator's signature, an opening by another party, a dropped deal are news; its own signature's echo is not.
  assert.equal(isEcho(deal("proposed"), "signed"), true);
  for (const s of ["signed", "opened", "running", "rejected", "timed-out"]) assert.equal(isEcho(deal(s), "signed"), false, s);
  // Once opened the chain drives every step.
  for (const local of ["opened", "ran", "committed", "settled", "declined", "expired", "failed"] as const) {
    for (const s of ["opened", "running", "committed", "timed-out"]) assert.equal(isEcho(deal(s), local), true, `${local}/${s}`);
  }
  // No hint (a reconnection, an event that does not read as one) and job-offer events are news.
  assert.equal(isEcho(undefined, "settled"), false);
  assert.equal(isEcho({ type: "job-offer", id: "0x01", status: "matched" }, "settled"), false);
});

/** The network's first provider with a poll timer that never fires during a test, and how many passes it made. */
async function eventOnlyProvider(net: Awaited<ReturnType<typeof startNetwork>>) {
  let passes = 0;
  const real = createClient(net.endpoints.solverUrl, solverRoutes);
  // Every pass reads the solver's proposals: counting those reads counts the passes.
  const solver: Client<SolverRoutes> = {
    ...real,
    listDeals: (i) => {
      if (String(i.query?.status ?? "").includes("proposed")) passes++;
      return real.listDeals(i);
    },
  };
  const provider = await net.startProvider(net.providers[0]!, { opts: { pollMs: 600_000 }, deps: { solver } });
  return { provider, passes: () => passes };
}

/** Post a job, sign the provider's proposal as its job creator, and wait until the provider has it settled. */
async function runJob(net: Awaited<ReturnType<typeof startNetwork>>, provider: Awaited<ReturnType<typeof eventOnlyProvider>>["provider"], label: string) {
  const job = await net.postJob();
  const [proposed] = await eventually(`${label}: the provider's signature`, async () => {
    const deals = await net.dealsOf(job.id);
    return deals.length === 1 && deals[0]!.providerSignature ? deals : undefined;
  });
  await net.signAsJobCreator(proposed!);
  await eventually(`${label} settled`, () => provider.deals().find((d) => d.id === proposed!.id.toLowerCase())?.status === "settled");
}

test("a provider that passes only on events runs and is paid for each job, in at most two passes per job", async (t) => {
  const net = await startNetwork();
  t.after(() => net.stop());
  const { provider, passes } = await eventOnlyProvider(net);
  const before = await net.ledger();
  const jobs = 3;
  const startPasses = passes();
  for (let i = 0; i < jobs; i++) await runJob(net, provider, `job ${i + 1}`);
  const after = await net.ledger();
  assert.equal(after.providers[0], before.providers[0]! + BigInt(jobs) * PRICE, "paid for every job");
  assert.equal(after.locked, 0n);
  // Two events per job bring news (the proposal, the job creator's signature); each of the other
  // four (its signature, "opened", "running", "committed") used to start a pass of its own.
  const perJob = (passes() - startPasses) / jobs;
  assert.ok(perJob <= 2.5, `${passes() - startPasses} passes for ${jobs} jobs`);
});

test("six jobs at once on a provider that passes only on events: every one runs and is paid, in at most 2.5 passes a job", async (t) => {
  const net = await startNetwork();
  t.after(() => net.stop());
  const { provider, passes } = await eventOnlyProvider(net);
  const before = await net.ledger();
  const jobs = 6;
  const startPasses = passes();
  await Promise.all(Array.from({ length: jobs }, (_, i) => runJob(net, provider, `job ${i + 1}`)));
  const after = await net.ledger();
  assert.equal(after.providers[0], before.providers[0]! + BigInt(jobs) * PRICE, "paid for every job");
  assert.equal(after.locked, 0n);
  // Each job's two news events start a pass, fewer when they come together; a deal whose step is
  // busy when news about it comes gets one more after it (passNews.ts).
  const perJob = (passes() - startPasses) / jobs;
  assert.ok(perJob <= 2.5, `${passes() - startPasses} passes for ${jobs} jobs`);
});

test("the job creator's signature is acted on from its event's record: the provider lists its deals once a job, for the proposal", async (t) => {
  const net = await startNetwork();
  t.after(() => net.stop());
  // Every pass that lists the solver's deals counts: with the poll timer off, only the passes news starts list.
  const { provider, passes: lists } = await eventOnlyProvider(net);
  const before = await net.ledger();
  const jobs = 3;
  const start = lists();
  for (let i = 0; i < jobs; i++) await runJob(net, provider, `job ${i + 1}`);
  assert.equal((await net.ledger()).providers[0], before.providers[0]! + BigInt(jobs) * PRICE, "paid for every job");
  // One full pass for each proposal; the signature that follows is news about a deal followed here,
  // and its event carries the record the pass needs (it listed the deals again: two a job).
  const perJob = (lists() - start) / jobs;
  assert.ok(perJob <= 1.34, `${lists() - start} lists for ${jobs} jobs`);
});
