// The job creator's wait loop against a real chain, store and solver, with providers the test
// drives by hand. Each test has a provider withhold something (its signature, its opening) and
// checks that the job creator neither pays for what it did not get nor leaves an offer holding
// anyone; every balance is checked to the wei.
import { test, before, after, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { parseEther } from "viem";
import { isLilyError } from "@lily/protocol";
import { dealState } from "@lily/chain";
import { PRICE, eventually, startNetwork, type Network } from "./network.ts";
import { tempDir } from "../../../test/support/tempDir.ts";

let net: Network;
before(async () => {
  net = await startNetwork();
});
after(() => net.stop());

const outDir = () => tempDir("lily-sdk-out-");
const cowsay = (message: string, o: { maxPrice?: bigint; policy?: string } = {}) => ({
  module: "cowsay@1.0.0",
  inputs: { message },
  maxPrice: o.maxPrice ?? PRICE,
  mediationFee: parseEther("1"),
  ...(o.policy && { policy: o.policy }),
});
/** Follow a job; the loop is stopped when the test ends, whatever happened. */
function follow(t: TestContext, jobOfferId: `0x${string}`, o: { matchTimeoutMs?: number } = {}) {
  const stop = new AbortController();
  t.after(() => stop.abort());
  const result = net.jc.waitForResult({ jobOfferId, outDir: outDir(), signal: stop.signal, ...o });
  result.catch(() => {}); // a test that failed early must not leave the stopped loop's rejection unhandled
  return result;
}
const rejection = (p: Promise<unknown>) =>
  p.then(
    () => assert.fail("expected the job to end without a result"),
    (e: unknown) => e,
  );

test("submitting a job no provider can ever take fails at once, naming the price that would match, and posts nothing", async () => {
  const [p1] = net.providers;
  await p1!.offer();
  const b0 = await net.balances();
  const e = await rejection(net.jc.submitJob(cowsay("too cheap", { maxPrice: PRICE - 1n })));
  assert.ok(isLilyError(e, "NO_MATCH"), String(e));
  assert.match(e.hint ?? "", /--max-price 3\b/);
  const [entry] = net.journal.list();
  assert.deepEqual([entry?.stage, entry?.signature, entry?.error], ["no-match", undefined, e.message], "journaled as no match, never signed");
  assert.deepEqual((await net.solver.listDeals({ query: { jobCreator: net.jobCreator.address } })).deals, [], "nothing posted");
  assert.deepEqual(await net.balances(), b0);
});

test("a proposal its provider never signs is never signed by the job creator: the job is matched again and paid once, nothing lapsed", async (t) => {
  await everyProviderOffers();
  const b0 = await net.balances();
  const job = await net.jc.submitJob(cowsay("second time lucky"));
  const result = follow(t, job.jobOfferId, { matchTimeoutMs: 60_000 });
  // Whoever is proposed first never signs. The job creator signs last, so it never signs that
  // proposal, and once the sign window is over the solver matches the job again.
  const first = await eventually(async () => (await proposals(job.jobOfferId))[0]);
  const second = await eventually(async () => (await proposals(job.jobOfferId)).find((d) => d.id !== first.id));
  assert.equal(
    (await proposals(job.jobOfferId)).find((d) => d.id === first.id)?.jobCreatorSignature,
    undefined,
    "the job creator never signed the unsigned proposal",
  );
  const honest = net.providerOf(second.deal.provider);
  await honest.sign(second);
  await eventually(async () => ((await proposals(job.jobOfferId)).find((d) => d.id === second.id)?.jobCreatorSignature ? true : undefined));
  assert.deepEqual(net.journal.get(job.jobOfferId)?.lapsed ?? [], [], "nothing the job creator signed had to lapse");
  await honest.open(second);
  await honest.commit(second, "moo\n");
  const r = await result;
  assert.deepEqual([r.dealId, r.stdout, r.settlement], [second.id, "moo\n", "settled"]);
  assert.deepEqual(
    await net.balances(),
    moved(b0, { jobCreator: -second.deal.price, [second.deal.provider]: second.deal.price }),
    "paid once, to the provider that ran it",
  );
});

test("a job nothing opens before the match timeout is withdrawn: cancelled at the solver, no-match in the journal, nothing locked", async () => {
  await everyProviderOffers();
  const b0 = await net.balances();
  const job = await net.jc.submitJob(cowsay("nobody home"));
  const e = await rejection(net.jc.waitForResult({ jobOfferId: job.jobOfferId, outDir: outDir(), matchTimeoutMs: 1_000 }));
  assert.ok(isLilyError(e, "NO_MATCH"), String(e));
  assert.equal((await net.solver.getJobOffer({ params: { id: job.jobOfferId } })).status, "cancelled");
  assert.deepEqual([net.journal.get(job.jobOfferId)?.stage, net.journal.get(job.jobOfferId)?.error], ["no-match", e.message]);
  assert.deepEqual(await net.balances(), b0);
});

test("stopping while a signed deal may still open withdraws nothing and keeps the deal in the journal", async () => {
  await everyProviderOffers();
  const job = await net.jc.submitJob(cowsay("stop"));
  const stop = new AbortController();
  const waiting = net.jc.waitForResult({ jobOfferId: job.jobOfferId, outDir: outDir(), signal: stop.signal });
  const proposal = await eventually(async () => (await proposals(job.jobOfferId))[0]);
  await net.providerOf(proposal.deal.provider).sign(proposal);
  await eventually(async () => (net.journal.get(job.jobOfferId)?.stage === "signed" ? true : undefined));
  stop.abort(new Error("stopped by the test"));
  const e = await rejection(waiting);
  assert.equal((e as Error).message, "stopped by the test");
  const entry = net.journal.get(job.jobOfferId)!;
  assert.equal(entry.stage, "signed");
  assert.ok(entry.dealId && (await proposals(job.jobOfferId)).some((d) => d.id === entry.dealId));
  assert.notEqual((await net.solver.getJobOffer({ params: { id: job.jobOfferId } })).status, "cancelled");
});

test("a replica group every provider signed but none opened: the job creator opens it whole, tallies it and pays each replica once", async (t) => {
  await everyProviderOffers();
  const b0 = await net.balances();
  const job = await net.jc.submitJob(cowsay("three of us", { policy: "replicate:3" }));
  const result = follow(t, job.jobOfferId);
  const group = await eventually(async () => {
    const proposed = await proposals(job.jobOfferId);
    return proposed.length === 3 ? proposed : undefined;
  });
  // Every provider signs; the job creator signs last; none opens. The job creator opens the group after its grace.
  for (const d of group) await net.providerOf(d.deal.provider).sign(d);
  await eventually(async () => ((await proposals(job.jobOfferId)).filter((d) => d.jobCreatorSignature).length === 3 ? true : undefined));
  for (const d of group) {
    await eventually(async () => ((await dealState(net.providers[0]!.chain, { dealId: d.id })) === "open" ? true : undefined));
    await net.providerOf(d.deal.provider).commit(d, "moo moo moo\n");
  }
  const r = await result;
  assert.deepEqual(
    [r.stdout, r.settlement, r.price, r.replicas?.map((x) => x.state)],
    ["moo moo moo\n", "settled", 3n * PRICE, ["settled", "settled", "settled"]],
  );
  assert.deepEqual(await net.balances(), moved(b0, { jobCreator: -3n * PRICE, ...Object.fromEntries(group.map((d) => [d.deal.provider, PRICE])) }));
});

/**
 * Every provider posts a fresh offer: a provider that withheld its signature in an earlier test
 * was excluded and its offer deactivated by the solver, as for any provider that does not sign.
 */
async function everyProviderOffers() {
  for (const p of net.providers) await p.offer();
}

/** Every deal the solver proposed for a job offer, newest state. */
async function proposals(jobOfferId: `0x${string}`) {
  const { dealIds } = await net.solver.getJobOffer({ params: { id: jobOfferId } });
  return Promise.all(dealIds.map((id) => net.solver.getDeal({ params: { id } })));
}

/** The balances `b0` (job creator, then each provider) moved by `delta` (keyed "jobCreator" or by provider address). */
function moved(b0: bigint[], delta: Record<string, bigint>): bigint[] {
  const keys = ["jobCreator", ...net.providers.map((p) => p.account.address)];
  return b0.map((b, i) => b + (delta[keys[i]!] ?? 0n));
}
