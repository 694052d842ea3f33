// The job creator's "what next", as a table: given what it knows (journal, solver, chain, time),
// the one thing it does. Single deals and replica groups go through the same step.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Hex } from "viem";
import { Policy, cidDigest, cidForRecord, hashRecord, sortedAddresses, type DealRecord } from "@lily/protocol";
import { nextStep, type ChainDeal, type JobView, type SignedDeal, type Step, SIGNED_RESULT_GRACE_SECONDS } from "../src/nextStep.ts";
import { LILY, NOW, domain, inputs, jobOffer, module, proposed, providers, resourceOffer } from "./offers.ts";

const OPEN_BY = BigInt(NOW + 60);
// Result manifests are dag-json records: the chain holds their digest.
const resultCid = cidForRecord({ exitCode: 0, files: {} }).cid;
const otherCid = cidForRecord({ exitCode: 1, files: {} }).cid;
const digest = cidDigest(resultCid);

const single = jobOffer({ policy: Policy.optimistic, policyParam: 120n, mediationFee: LILY });
const triple = jobOffer({ policy: Policy.replicate, policyParam: 3n, mediationFee: LILY });
const group = sortedAddresses(providers.slice(0, 3).map((p) => p.address));

async function deal(job: ReturnType<typeof jobOffer>, i: number, withGroup: boolean): Promise<SignedDeal> {
  const d = proposed(job, await resourceOffer(providers[i]!), withGroup ? group : undefined);
  return { dealId: hashRecord(domain, "Deal", d), deal: d, trustNonce: undefined };
}
const one = await deal(single, 0, false);
const spare = await deal(single, 1, false);
const three = await Promise.all([0, 1, 2].map((i) => deal(triple, i, true)));
/** A trust deal routed to LilyTrustDeals, under the nonce its provider picked: no digest on chain, the signed Result is the result's word. */
const trusty: SignedDeal = { ...(await deal(jobOffer({ policy: Policy.trust }), 0, false)), trustNonce: 7n << 20n };
/** Its own opening found in the chain's logs (openTx), unless `o` says otherwise. */
const routed = (state: ChainDeal["state"], o: Partial<ChainDeal> = {}): ChainDeal => ({ state, challengedAt: 0n, routed: true, openTx: "0x0a", ...o });
/** A replica of the same job in another group: providers 1, 2 and 4. */
const otherGroup = await (async () => {
  const d = proposed(triple, await resourceOffer(providers[3]!), [providers[0]!.address, providers[1]!.address, providers[3]!.address]);
  return { dealId: hashRecord(domain, "Deal", d), deal: d, trustNonce: undefined };
})();

function record(s: SignedDeal, o: Partial<DealRecord> & { resultOf?: string } = {}): DealRecord {
  const { resultOf, ...rest } = o;
  return {
    id: s.dealId,
    deal: s.deal,
    jobOfferId: s.deal.jobOffer,
    resourceOfferId: s.deal.resourceOffer,
    module,
    inputs,
    status: "proposed",
    updatedAt: NOW * 1000,
    ...(s.deal.policy === Policy.replicate && { group }),
    ...(s.trustNonce !== undefined && { trustNonce: s.trustNonce }),
    ...(resultOf && { result: { result: { dealId: s.dealId, provider: s.deal.provider, result: resultOf, exitCode: 0 }, signature: `0x${"11".repeat(65)}` } }),
    ...rest,
  };
}
const sig = `0x${"22".repeat(65)}` as Hex;
const both = { status: "signed" as const, jobCreatorSignature: sig, providerSignature: sig };
const on = (state: ChainDeal["state"], o: Partial<ChainDeal> = {}): ChainDeal => ({
  state,
  challengedAt: 0n,
  ...(state !== "none" && state !== "open" && { digest }),
  ...o,
});

/** A view at NOW, before the match timeout, of a job with nothing signed; `o` changes it. */
function view(
  o: Partial<JobView> & { job?: ReturnType<typeof jobOffer>; status?: "open" | "expired" | "cancelled" | "abandoned"; deals?: DealRecord[] } = {},
): JobView {
  const { job = single, status = "open", deals = [], ...rest } = o;
  const k = job.offer.policy === Policy.replicate ? Number(job.offer.policyParam) : 1;
  return {
    k,
    signed: [],
    lapsed: [],
    nowMs: NOW * 1000,
    matchDeadlineMs: NOW * 1000 + 20_000,
    aborted: false,
    deadlineGraceSeconds: 2,
    openGraceMs: 15_000,
    openTried: false,
    solver: {
      job: {
        id: job.id,
        offer: job.offer,
        signature: sig,
        status,
        dealIds: deals.map((d) => d.id),
        rejections: { "0xA1": "price: above max" },
        createdAt: NOW * 1000,
      },
      deals,
    },
    chain: { now: BigInt(NOW), deals: {}, mediationTimeoutSeconds: 600n },
    ...rest,
  };
}
const signedView = (signed: SignedDeal[], states: ChainDeal[], records: DealRecord[], o: Partial<JobView> = {}) =>
  view({
    job: signed.length > 1 ? triple : single,
    signed,
    solver: { deals: records },
    chain: { now: BigInt(NOW), deals: Object.fromEntries(signed.map((s, i) => [s.dealId, states[i]!])), mediationTimeoutSeconds: 600n },
    ...o,
  });
const at = (now: bigint, v: JobView): JobView => ({ ...v, chain: { ...v.chain, now } });
const providerSigned: Partial<DealRecord> = { providerSignature: `0x${"22".repeat(65)}` };
const deadline = one.deal.deadline;

const cases: [string, JobView, (s: Step) => void][] = [
  // Matching: nothing signed, nothing locked.
  ["no proposal yet: wait", view(), is("wait")],
  ["a proposal its provider signed: check and sign it (the job creator signs last)", view({ deals: [record(one, providerSigned)] }), signs([one])],
  ["a proposal its provider has not signed yet: wait", view({ deals: [record(one)] }), is("wait")],
  ["only a proposal whose earlier signed deal lapsed: never signed again, wait", view({ deals: [record(one)], lapsed: [one.dealId] }), is("wait")],
  [
    "a proposal its provider signed but already past its openBy (a restarted solver has not expired it yet): passed over, wait",
    view({ deals: [record(one, providerSigned)], nowMs: Number(OPEN_BY + 1n) * 1000, matchDeadlineMs: Number(OPEN_BY + 100n) * 1000 }),
    is("wait"),
  ],
  [
    "a lapsed deal and a new proposal: sign the new one",
    view({ deals: [record(one, { status: "rejected" }), record(spare, providerSigned)], lapsed: [one.dealId] }),
    signs([spare]),
  ],
  ["replicate(3) with two proposals: wait for the whole group", view({ job: triple, deals: three.slice(0, 2).map((s) => record(s)) }), is("wait")],
  [
    "replicate(3) with its three proposals, each signed by its provider: sign all three at once",
    view({ job: triple, deals: three.map((s) => record(s, providerSigned)) }),
    signs(three),
  ],
  [
    "replicate(3) with three proposals, one not yet signed by its provider: wait",
    view({ job: triple, deals: three.map((s, i) => record(s, i === 2 ? {} : providerSigned)) }),
    is("wait"),
  ],
  [
    "replicate(3) with three proposals from two groups: wait",
    view({ job: triple, deals: [...three.slice(0, 2), otherGroup].map((s) => record(s)) }),
    is("wait"),
  ],
  [
    "past the match timeout with no proposal: give up, with each provider's reason",
    view({ nowMs: NOW * 1000 + 20_001 }),
    givesUp(/no provider matched/, { "0xA1": "price: above max" }),
  ],
  [
    "a proposal after the match timeout: give up rather than sign late",
    view({ deals: [record(one)], nowMs: NOW * 1000 + 20_001 }),
    givesUp(/no provider matched/),
  ],
  [
    "past the match timeout after a signed deal lapsed: give up, saying so",
    view({ deals: [record(spare)], lapsed: [one.dealId], nowMs: NOW * 1000 + 20_001 }),
    givesUp(/1 signed deal\(s\) lapsed/),
  ],
  ["the solver holds the job offer as abandoned: give up", view({ status: "abandoned" }), givesUp(/abandoned/)],
  ["the job offer expired at the solver: give up", view({ status: "expired" }), givesUp(/expired/)],
  ["the solver does not answer, before the match timeout: wait", view({ solver: undefined }), is("wait")],
  ["the solver does not answer, past the match timeout: give up", view({ solver: undefined, nowMs: NOW * 1000 + 20_001 }), givesUp(/did not answer/)],
  ["the caller stops waiting before anything is signed: give up", view({ aborted: true, deals: [record(one)] }), givesUp(/stopped waiting/)],
  // Signed, not open: the provider opens by openBy, or nobody ever can.
  ["signed, the provider has not signed yet: wait for the opening", signedView([one], [on("none")], [record(one, { jobCreatorSignature: sig })]), is("wait")],
  [
    "signed, and the chain's clock is past openBy with the deal unopened: it lapsed, nothing locked",
    at(OPEN_BY + 1n, signedView([one], [on("none")], [record(one, both)])),
    lapses([one]),
  ],
  ["signed, at openBy exactly: it can still open, wait", at(OPEN_BY, signedView([one], [on("none")], [record(one, { jobCreatorSignature: sig })])), is("wait")],
  [
    "the caller stops waiting while a signed deal can still open: no give-up",
    signedView([one], [on("none")], [record(one)], { aborted: true }),
    (s) => assert.notEqual(s.do, "give-up"),
  ],
  [
    "the journal says signed but the solver lacks the signature: post it again",
    signedView([one], [on("none")], [record(one)]),
    (s) => assert.deepEqual(s, { do: "post-signatures", deals: [one] }),
  ],
  [
    "both signed, no provider opened within the grace: open it ourselves",
    signedView([one], [on("none")], [record(one, both)], { nowMs: NOW * 1000 + 15_000 }),
    opens([one]),
  ],
  [
    "both signed, still within the grace: wait for the provider",
    signedView([one], [on("none")], [record(one, both)], { nowMs: NOW * 1000 + 14_999 }),
    is("wait"),
  ],
  [
    "both signed, grace over, but we already tried: wait",
    signedView([one], [on("none")], [record(one, both)], { nowMs: NOW * 1000 + 15_000, openTried: true }),
    is("wait"),
  ],
  [
    "a group with every signature, grace over: open the whole group",
    signedView(
      three,
      three.map(() => on("none")),
      three.map((s) => record(s, both)),
      { nowMs: NOW * 1000 + 15_000 },
    ),
    opens(three),
  ],
  [
    "a group with one provider's signature missing: never opened by us, wait",
    signedView(
      three,
      three.map(() => on("none")),
      [record(three[0]!, both), record(three[1]!, both), record(three[2]!, { jobCreatorSignature: sig })],
      { nowMs: NOW * 1000 + 60_000 },
    ),
    is("wait"),
  ],
  // Open: follow it; a silent provider is timed out.
  ["open, before its deadline: wait for the result", at(deadline, signedView([one], [on("open")], [record(one, both)])), is("wait")],
  ["open, within the grace after its deadline: wait", at(deadline + 2n, signedView([one], [on("open")], [record(one, both)])), is("wait")],
  [
    "open past its deadline and the grace: claim the timeout",
    at(deadline + 3n, signedView([one], [on("open")], [record(one, both)])),
    (s) => assert.deepEqual(s, { do: "claim-timeout", deals: [one.deal] }),
  ],
  ["timed out with no result: refunded", signedView([one], [on("timedOut", { digest: undefined })], [record(one)]), ends("refunded", "DEADLINE_PASSED")],
  // A result on chain is delivered only with the provider's signed Result naming it.
  [
    "committed under optimistic with the signed result: deliver it while the window runs",
    signedView([one], [on("committed")], [record(one, { resultOf: resultCid })]),
    delivers(one, "committed", one.deal.price),
  ],
  ["settled but the solver has no signed result yet: wait", signedView([one], [on("settled", { committedAt: BigInt(NOW) })], [record(one)]), is("wait")],
  [
    "settled and no signed result came within the grace after the commit: deliver on the chain's digest alone",
    signedView([one], [on("settled", { committedAt: BigInt(NOW) - SIGNED_RESULT_GRACE_SECONDS })], [record(one)]),
    delivers(one, "settled", one.deal.price),
  ],
  [
    "settled, and the signed result names another CID: fail",
    signedView([one], [on("settled")], [record(one, { resultOf: otherCid })]),
    ends("failed", "CID_MISMATCH"),
  ],
  ["settled, the solver down: wait", signedView([one], [on("settled")], [], { solver: undefined }), is("wait")],
  // A trust deal routed to LilyTrustDeals: settled by the provider (paid at once), no digest on chain.
  [
    "routed, open before its deadline: wait for the result",
    at(trusty.deal.deadline, signedView([trusty], [routed("open")], [record(trusty, both)])),
    is("wait"),
  ],
  [
    "routed, open with its signed result already in: wait for the settlement (the result alone pays nobody)",
    signedView([trusty], [routed("open")], [record(trusty, { ...both, resultOf: resultCid })]),
    is("wait"),
  ],
  [
    "routed, open past its deadline and the grace: claim the timeout",
    at(trusty.deal.deadline + 3n, signedView([trusty], [routed("open")], [record(trusty, both)])),
    (s) => assert.deepEqual(s, { do: "claim-timeout", deals: [trusty.deal] }),
  ],
  ["routed, timed out: refunded", signedView([trusty], [routed("timedOut")], [record(trusty)]), ends("refunded", "DEADLINE_PASSED")],
  // Its (provider, nonce) shows a state, but this deal's own opening is not found: a twin under its nonce may hold it.
  ...(["open", "settled", "timedOut"] as const).map((state): [string, JobView, (s: Step) => void] => [
    `routed, the nonce reads ${state} but the deal's own opening is not found (a twin's, or a lagging log): wait, past its deadline and grace too`,
    at(
      trusty.deal.deadline + SIGNED_RESULT_GRACE_SECONDS + 1n,
      signedView([trusty], [routed(state, { openTx: undefined })], [record(trusty, { resultOf: resultCid })]),
    ),
    is("wait"),
  ]),
  [
    "routed, settled with the provider's signed result: deliver it, the settling transaction as the commit",
    signedView([trusty], [routed("settled", { openTx: "0x01", commitTx: "0x02" })], [record(trusty, { resultOf: resultCid })]),
    (s) => {
      delivers(trusty, "settled", trusty.deal.price)(s);
      if (s.do === "deliver") assert.deepEqual(s.delivery.txs, { open: "0x01", commit: "0x02" });
    },
  ],
  [
    "routed, settled, no signed result yet, until the deadline plus the result's grace: wait",
    at(trusty.deal.deadline + SIGNED_RESULT_GRACE_SECONDS, signedView([trusty], [routed("settled")], [record(trusty)])),
    is("wait"),
  ],
  [
    "routed, settled, no signed result past the deadline plus the grace (the provider was paid): the job fails, naming the result",
    at(trusty.deal.deadline + SIGNED_RESULT_GRACE_SECONDS + 1n, signedView([trusty], [routed("settled")], [record(trusty)])),
    (s) => {
      ends("failed", "DEADLINE_PASSED")(s);
      if (s.do === "end") assert.equal(s.error.field, "result");
    },
  ],
  [
    "routed, settled, the solver down past the grace: also ends (nothing on chain is left to claim)",
    at(trusty.deal.deadline + SIGNED_RESULT_GRACE_SECONDS + 1n, signedView([trusty], [routed("settled")], [], { solver: undefined })),
    ends("failed", "DEADLINE_PASSED"),
  ],
  [
    "routed, settled, the signed result names another deal: fail, naming result.dealId",
    signedView(
      [trusty],
      [routed("settled")],
      [{ ...record(trusty), result: { result: { dealId: one.dealId, provider: trusty.deal.provider, result: resultCid, exitCode: 0 }, signature: sig } }],
    ),
    (s) => {
      ends("failed", "CID_MISMATCH")(s);
      if (s.do === "end") assert.equal(s.error.field, "result.dealId");
    },
  ],
  [
    "routed, both signed, no provider opened within the grace: open it ourselves",
    signedView([trusty], [routed("none")], [record(trusty, both)], { nowMs: NOW * 1000 + 15_000 }),
    opens([trusty]),
  ],
  // A group is tallied once every replica committed or timed out.
  ["a group, one replica still open before its deadline: wait", signedView(three, [on("committed"), on("open"), on("committed")], []), is("wait")],
  [
    "a group, one replica silent past its deadline: claim its timeout only",
    at(deadline + 3n, signedView(three, [on("committed"), on("open"), on("committed")], [])),
    (s) => assert.deepEqual(s, { do: "claim-timeout", deals: [three[1]!.deal] }),
  ],
  [
    "a group, every replica committed: tally it",
    signedView(
      three,
      three.map(() => on("committed")),
      [],
    ),
    settles(three),
  ],
  [
    "a group, two committed and one timed out: tally it",
    signedView(three, [on("committed"), on("timedOut", { digest: undefined }), on("committed")], []),
    settles(three),
  ],
  [
    "a group sent to mediation, before the mediation timeout: wait",
    at(
      BigInt(NOW + 599),
      signedView(
        three,
        three.map(() => on("challenged", { challengedAt: BigInt(NOW) })),
        [],
      ),
    ),
    is("wait"),
  ],
  [
    "a group sent to mediation nobody ruled on: claim the mediation timeouts",
    at(
      BigInt(NOW + 600),
      signedView(
        three,
        three.map(() => on("challenged", { challengedAt: BigInt(NOW) })),
        [],
      ),
    ),
    (s) => assert.deepEqual(s, { do: "claim-mediation-timeout", deals: three.map((t) => t.deal) }),
  ],
  [
    "a tallied group, two paid, one slashed: deliver, having paid two prices",
    signedView(
      three,
      [on("settled"), on("slashed"), on("settled")],
      three.map((s) => record(s, { resultOf: resultCid })),
    ),
    delivers(three[0]!, "settled", 2n * three[0]!.deal.price, ["settled", "slashed", "settled"]),
  ],
  [
    "a tallied group whose first paid replica has no signed result: deliver through the next",
    signedView(three, [on("settled"), on("settled"), on("slashed")], [record(three[0]!), record(three[1]!, { resultOf: resultCid }), record(three[2]!)]),
    delivers(three[1]!, "settled", 2n * three[0]!.deal.price, ["settled", "settled", "slashed"]),
  ],
  [
    "a group where every replica timed out: refunded",
    signedView(
      three,
      three.map(() => on("timedOut", { digest: undefined })),
      [],
    ),
    ends("refunded", "DEADLINE_PASSED"),
  ],
];

for (const [name, v, expect] of cases) test(name, () => expect(nextStep(v)));

function is(what: Step["do"]) {
  return (s: Step) =>
    assert.equal(
      s.do,
      what,
      JSON.stringify(s, (_k, x) => (typeof x === "bigint" ? String(x) : x)),
    );
}
function signs(expected: SignedDeal[]) {
  return (s: Step) => {
    assert.equal(s.do, "sign");
    if (s.do === "sign")
      assert.deepEqual(
        s.proposals.map((p) => p.id),
        expected.map((e) => e.dealId),
      );
  };
}
function opens(expected: SignedDeal[]) {
  return (s: Step) => assert.deepEqual(s, { do: "open", deals: expected.map((e) => ({ deal: e.deal, providerSig: sig })) });
}
function lapses(expected: SignedDeal[]) {
  return (s: Step) => {
    assert.equal(s.do, "lapse");
    if (s.do === "lapse")
      assert.deepEqual(
        s.lapsedDeals,
        expected.map((e) => e.dealId),
      );
  };
}
function settles(expected: SignedDeal[]) {
  return (s: Step) => assert.deepEqual(s, { do: "settle-group", deals: expected.map((e) => e.deal) });
}
function givesUp(reason: RegExp, rejections?: Record<string, string>) {
  return (s: Step) => {
    assert.equal(s.do, "give-up");
    if (s.do !== "give-up") return;
    assert.match(s.reason, reason);
    if (rejections) assert.deepEqual(s.rejections, rejections);
  };
}
function ends(stage: "refunded" | "failed", code: string) {
  return (s: Step) => {
    assert.equal(s.do, "end");
    if (s.do === "end") assert.deepEqual([s.stage, s.error.code], [stage, code]);
  };
}
function delivers(d: SignedDeal, settlement: string, price: bigint, replicaStates?: string[]) {
  return (s: Step) => {
    assert.equal(
      s.do,
      "deliver",
      JSON.stringify(s, (_k, x) => (typeof x === "bigint" ? String(x) : x)),
    );
    if (s.do !== "deliver") return;
    assert.deepEqual([s.delivery.dealId, s.delivery.resultCid, s.delivery.settlement, s.delivery.price], [d.dealId, resultCid, settlement, price]);
    assert.deepEqual(
      s.delivery.replicas?.map((r) => r.state),
      replicaStates,
    );
  };
}
