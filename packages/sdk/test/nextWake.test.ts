// How long the wait loop sleeps when no event comes (nextWake.ts). For every step the job creator
// takes on the clock rather than on an event, a view where nextStep still waits, then the same
// view once the sleep nextWakeMs gives has passed (both clocks moved on): nextStep must act then.
// And the interval itself: the slow fallback only while the subscription is open and the wait is
// for another party's event; the short poll otherwise.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Policy, cidDigest, cidForRecord, hashRecord, sortedAddresses, type DealRecord } from "@lily/protocol";
import { SIGNED_RESULT_GRACE_SECONDS, nextStep, type ChainDeal, type JobView, type SignedDeal } from "../src/nextStep.ts";
import { nextWakeMs, type WakeSettings } from "../src/nextWake.ts";
import { NOW, LILY, inputs, jobOffer, module, proposed, providers, resourceOffer, domain } from "./offers.ts";

const open: WakeSettings = { pollMs: 500, fallbackPollMs: 600_000, subscribed: true };
const down: WakeSettings = { ...open, subscribed: false };
const sig = `0x${"22".repeat(65)}` as const;
const digest = cidDigest(cidForRecord({ exitCode: 0, files: {} }).cid);

const single = jobOffer({ policy: Policy.optimistic, policyParam: 120n, mediationFee: LILY });
const triple = jobOffer({ policy: Policy.replicate, policyParam: 3n, mediationFee: LILY });
const group = sortedAddresses(providers.slice(0, 3).map((p) => p.address));
async function deal(job: typeof single, i: number, withGroup: boolean): Promise<SignedDeal> {
  const d = proposed(job, await resourceOffer(providers[i]!), withGroup ? group : undefined);
  return { dealId: hashRecord(domain, "Deal", d), deal: d, trustNonce: undefined };
}
const one = await deal(single, 0, false);
const three = await Promise.all([0, 1, 2].map((i) => deal(triple, i, true)));

function record(s: SignedDeal, o: Partial<DealRecord> = {}): DealRecord {
  return {
    id: s.dealId,
    deal: s.deal,
    jobOfferId: s.deal.jobOffer,
    resourceOfferId: s.deal.resourceOffer,
    module,
    inputs,
    status: "proposed",
    updatedAt: NOW * 1000,
    ...o,
  };
}
const on = (state: ChainDeal["state"], o: Partial<ChainDeal> = {}): ChainDeal => ({ state, challengedAt: 0n, ...o });

/** A view at NOW of `signed` deals in these chain states (nothing signed: a job offer with `deals` proposed). */
function view(signed: SignedDeal[], states: ChainDeal[], deals: DealRecord[], o: Partial<JobView> = {}): JobView {
  const job = signed.length > 1 ? triple : single;
  return {
    k: signed.length > 1 ? 3 : 1,
    signed,
    lapsed: [],
    solver: {
      ...(signed.length === 0 && {
        job: { id: job.id, offer: job.offer, signature: sig, status: "open", dealIds: deals.map((d) => d.id), rejections: {}, createdAt: NOW * 1000 },
      }),
      deals,
    },
    chain: { now: BigInt(NOW), deals: Object.fromEntries(signed.map((s, i) => [s.dealId, states[i]!])), mediationTimeoutSeconds: 600n },
    nowMs: NOW * 1000,
    matchDeadlineMs: NOW * 1000 + 20_000,
    aborted: false,
    deadlineGraceSeconds: 2,
    openGraceMs: 15_000,
    openTried: false,
    ...o,
  };
}
/** The view `ms` later: the job creator's clock and the chain's (whole seconds, as blocks carry them). */
const later = (v: JobView, ms: number): JobView => ({ ...v, nowMs: v.nowMs + ms, chain: { ...v.chain, now: v.chain.now + BigInt(Math.ceil(ms / 1000)) } });

const providerSigned = { status: "signed" as const, providerSignature: sig, jobCreatorSignature: sig };
/** Each: a view where nextStep waits, the step it takes on its own, and how long after the view's read (ms) that step is due. */
const clockSteps: [string, JobView, string, number][] = [
  ["no proposal by the match timeout: give up", view([], [], []), "give-up", 20_001],
  ["signed, every signature there, no provider opened in the grace: open", view([one], [on("none")], [record(one, providerSigned)]), "open", 15_000],
  [
    "signed, the grace already tried, nothing opened by openBy: lapse",
    view([one], [on("none")], [record(one, providerSigned)], {
      openTried: true,
      chain: { now: one.deal.openBy - 5n, deals: { [one.dealId]: on("none") }, mediationTimeoutSeconds: 0n },
    }),
    "lapse",
    6_000,
  ],
  [
    "open, no result by the deadline: claim the timeout",
    view([one], [on("open")], [record(one, providerSigned)], {
      chain: { now: one.deal.deadline - 7n, deals: { [one.dealId]: on("open") }, mediationTimeoutSeconds: 0n },
    }),
    "claim-timeout",
    10_000,
  ],
  [
    "committed, no signed result from the provider: deliver on the chain's word after the grace",
    view([one], [on("committed", { digest, committedAt: BigInt(NOW) - 3n })], [record(one, providerSigned)]),
    "deliver",
    27_000,
  ],
  [
    "a routed trust deal settled with no signed result: end once the result's grace after the deadline is over",
    view([one], [on("settled", { routed: true, openTx: "0x0a" })], [record(one, providerSigned)], {
      chain: {
        now: one.deal.deadline + SIGNED_RESULT_GRACE_SECONDS - 9n,
        deals: { [one.dealId]: on("settled", { routed: true, openTx: "0x0a" }) },
        mediationTimeoutSeconds: 0n,
      },
    }),
    "end",
    10_000,
  ],
  [
    "a challenged replica the mediator never ruled on: claim the mediation timeout",
    view(
      three,
      [on("challenged", { digest, committedAt: BigInt(NOW) - 100n, challengedAt: BigInt(NOW) - 590n }), on("settled", { digest }), on("settled", { digest })],
      three.map((s) => record(s, providerSigned)),
    ),
    "claim-mediation-timeout",
    10_000,
  ],
];

for (const [name, v, action, dueMs] of clockSteps) {
  test(`on the clock: ${name}`, () => {
    assert.equal(nextStep(v).do, "wait", "not due yet");
    for (const s of [open, down]) {
      // Sleep as the loop would, with no event, until nextStep acts: that must be when it is due,
      // give or take the chain's whole seconds.
      let slept = 0;
      let now = v;
      while (nextStep(now).do === "wait" && slept < 10 * dueMs) {
        slept += nextWakeMs(now, nextStep(now), s);
        now = later(v, slept);
      }
      assert.equal(nextStep(now).do, action, `${s.subscribed ? "subscribed" : "down"}: after ${slept} ms`);
      assert.ok(slept >= dueMs - 1_000 && slept <= dueMs + 1_000, `${s.subscribed ? "subscribed" : "down"}: acted ${slept} ms after the read, due at ${dueMs}`);
    }
  });
}

test("while subscribed, a wait for another party's event sleeps the fallback, unless a deadline comes first; down, the short poll", () => {
  const tenSeconds = { ...open, fallbackPollMs: 10_000 };
  // Proposals to come; an opening to come; a result to come: every deadline more than ten seconds away.
  const far = { matchDeadlineMs: NOW * 1000 + 60_000, openGraceMs: 60_000 };
  const waits = [
    view([], [], [], far),
    view([one], [on("none")], [record(one, providerSigned)], far),
    view([one], [on("open")], [record(one, providerSigned)], {
      ...far,
      chain: { now: one.deal.deadline - 60n, deals: { [one.dealId]: on("open") }, mediationTimeoutSeconds: 0n },
    }),
  ];
  for (const v of waits) {
    assert.equal(nextStep(v).do, "wait");
    assert.equal(nextWakeMs(v, nextStep(v), tenSeconds), 10_000);
    assert.equal(nextWakeMs(v, nextStep(v), { ...tenSeconds, subscribed: false }), 500);
    // The same wait with its deadline 3 s away ends then.
    const soon = later(v, v.signed.length === 0 ? 57_001 : v.chain.deals[one.dealId]?.state === "none" ? 57_000 : 60_000);
    assert.equal(nextWakeMs(soon, nextStep(soon), tenSeconds), 3_000, v.signed.length ? v.chain.deals[one.dealId]!.state : "matching");
  }
});

test("what only a read can tell polls even while subscribed: a silent solver or chain, a lagging log, a group's tally and rulings", () => {
  const far = { matchDeadlineMs: NOW * 1000 + 3_600_000, openGraceMs: 3_600_000 };
  const { solver: _gone, ...noSolver } = view([], [], [], far);
  const noChain = view([one], [], [record(one, providerSigned)], { ...far, chain: { now: 0n, deals: {}, mediationTimeoutSeconds: 0n } });
  const logLag = view([one], [on("committed")], [record(one, providerSigned)], far);
  const ruling = view(
    three,
    [on("challenged", { digest, challengedAt: BigInt(NOW) }), on("settled", { digest }), on("settled", { digest })],
    three.map((s) => record(s, providerSigned)),
    far,
  );
  // A routed trust deal whose signed result is in waits for its settlement: a chain event the solver need not relay.
  const routedSettling = view(
    [one],
    [on("open", { routed: true })],
    [record(one, { ...providerSigned, result: { result: { dealId: one.dealId, provider: one.deal.provider, result: "x", exitCode: 0 }, signature: sig } })],
    far,
  );
  for (const v of [noSolver, noChain, logLag, ruling, routedSettling]) {
    assert.equal(nextStep(v).do, "wait");
    assert.equal(nextWakeMs(v, nextStep(v), open), open.pollMs);
  }
});

test("a routed trust deal settled without a digest is no lagging log: its wait for the signed result sleeps the fallback", () => {
  const settled = on("settled", { routed: true, openTx: "0x0a" });
  const v = view([one], [settled], [record(one, providerSigned)], {
    chain: { now: one.deal.deadline - 3_600n, deals: { [one.dealId]: settled }, mediationTimeoutSeconds: 0n },
  });
  assert.equal(nextStep(v).do, "wait");
  assert.equal(nextWakeMs(v, nextStep(v), { ...open, fallbackPollMs: 10_000 }), 10_000);
});

test("a routed deal whose nonce shows a state but whose own opening is not found: only the chain's logs tell, so the short poll", () => {
  const unlocated = on("settled", { routed: true });
  const v = view([one], [unlocated], [record(one, providerSigned)], {
    chain: { now: one.deal.deadline - 3_600n, deals: { [one.dealId]: unlocated }, mediationTimeoutSeconds: 0n },
  });
  assert.equal(nextStep(v).do, "wait");
  assert.equal(nextWakeMs(v, nextStep(v), { ...open, fallbackPollMs: 10_000 }), open.pollMs);
});

test("after its own step the view is stale: the open grace after signing, the short poll after anything else", () => {
  const v = view([], [], [], { openGraceMs: 15_000 });
  assert.equal(nextWakeMs(v, { do: "sign", proposals: [] }, open), 15_000);
  assert.equal(nextWakeMs(v, { do: "sign", proposals: [] }, down), 500);
  assert.equal(nextWakeMs(v, { do: "open", deals: [] }, open), 500);
  assert.equal(nextWakeMs(v, { do: "settle-group", deals: [] }, open), 500);
});
