// What the provider does next about a deal, decided from its own record, the chain, the solver's
// record and the time: one row per situation.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Address, Hex } from "viem";
import type { DealStateName } from "@lily/chain";
import { NO_MEDIATORS, NO_REPLICAS, Policy, replicaGroupHash, type DealMessage, type DealRecord } from "@lily/protocol";
import { nextStep, shouldCheck, type DealView, type ReplicaView, type Step } from "../src/nextStep.ts";
import type { LocalDeal } from "../src/db.ts";

const NOW = 1_000_000;
const ME: Address = "0x00000000000000000000000000000000000000A1";
const OTHER: Address = "0x00000000000000000000000000000000000000B2";
const JC: Address = "0x00000000000000000000000000000000000000C3";
const SIG_JC = `0x${"1".repeat(130)}` as Hex;
const SIG_ME = `0x${"2".repeat(130)}` as Hex;
const SIG_OTHER = `0x${"3".repeat(130)}` as Hex;
const id = (n: number) => `0x${n.toString(16).padStart(64, "0")}` as Hex;

function terms(over: Partial<DealMessage> = {}): DealMessage {
  return {
    jobCreator: JC,
    provider: ME,
    jobOffer: id(1),
    resourceOffer: id(2),
    price: 3n,
    collateral: 5n,
    openBy: BigInt(NOW + 60),
    deadline: BigInt(NOW + 660),
    policy: Policy.trust,
    policyParam: 0n,
    mediationFee: 0n,
    mediators: NO_MEDIATORS,
    replicas: NO_REPLICAS,
    moduleCreator: JC,
    royaltyBps: 0,
    ...over,
  };
}

const replicated = (over: Partial<DealMessage> = {}) => terms({ policy: Policy.replicate, policyParam: 2n, replicas: replicaGroupHash([ME, OTHER]), ...over });

function local(over: Partial<LocalDeal> = {}): LocalDeal {
  const deal = over.deal ?? terms();
  return {
    id: id(10),
    deal,
    module: "bafy-module",
    inputs: "bafy-inputs",
    needs: { cpu: 1, memoryMb: 64, gpu: 0, vramMb: 0 },
    status: "signed",
    ...(deal.policy === Policy.replicate && { group: [ME, OTHER] }),
    ...over,
  };
}

function record(status: DealRecord["status"], sigs: { jc?: boolean; me?: boolean } = { jc: true, me: true }, deal = terms()): DealRecord {
  return {
    id: id(10),
    deal,
    jobOfferId: id(1),
    resourceOfferId: id(2),
    module: "bafy-module",
    inputs: "bafy-inputs",
    status,
    updatedAt: 0,
    ...(sigs.jc && { jobCreatorSignature: SIG_JC }),
    ...(sigs.me && { providerSignature: SIG_ME }),
  };
}

function replica(provider: Address, state: DealStateName, o: Partial<ReplicaView> = {}): ReplicaView {
  return {
    id: provider === ME ? id(10) : id(11),
    deal: replicated({ provider }),
    state,
    jobCreatorSig: SIG_JC,
    providerSig: provider === ME ? SIG_ME : SIG_OTHER,
    status: "signed",
    ...o,
  };
}

function view(l: LocalDeal, state: DealStateName, o: Partial<DealView> = {}): DealView {
  return { local: l, chain: { state, committedAt: 0n, challengedAt: 0n }, mediationTimeoutSeconds: 600, now: NOW, ...o };
}

const cases: [string, DealView, Step | Step["kind"]][] = [
  // Before the deal opens: followed until its openBy, whoever opens it.
  ["a signed deal past its openBy that never opened is given up as expired", view(local(), "none", { now: NOW + 61 }), "giveUp"],
  ["a deal whose signature the solver lacks is signed again", view(local(), "none", { record: record("proposed", { jc: true, me: false }) }), { kind: "sign" }],
  [
    "a deal signed by both is opened with the job creator's signature",
    view(local(), "none", { record: record("signed") }),
    { kind: "open", jobCreatorSig: SIG_JC },
  ],
  ["a deal the job creator has not signed waits", view(local(), "none", { record: record("proposed", { me: true }) }), "wait"],
  [
    "a deal the solver dropped is not opened, even with both signatures (the job was re-matched)",
    view(local(), "none", { record: record("rejected") }),
    "wait",
  ],
  ["a deal the solver does not know waits for the chain", view(local(), "none"), "wait"],
  [
    "a deal whose own opening was refused is only watched until its openBy",
    view(local({ openRefused: "escrow empty" }), "none", { record: record("signed") }),
    "wait",
  ],
  // The chain node lost the opening (a restart without its last blocks): open it again while openBy allows.
  [
    "a deal the provider opened but the chain lost is opened again with the same signature",
    view(local({ status: "ran", jobCreatorSig: SIG_JC }), "none"),
    { kind: "open", jobCreatorSig: SIG_JC },
  ],
  ["a deal the chain lost, opened without a kept signature, is watched until openBy", view(local({ status: "opened" }), "none"), "wait"],
  [
    "a lost deal whose reopening was refused is only watched",
    view(local({ status: "ran", jobCreatorSig: SIG_JC, openRefused: "escrow empty" }), "none"),
    "wait",
  ],
  [
    "a deal the chain lost is expired past its openBy, not failed",
    view(local({ status: "ran", jobCreatorSig: SIG_JC }), "none", { now: NOW + 61 }),
    { kind: "giveUp", status: "expired", why: `not opened by its openBy ${NOW + 60}` },
  ],
  [
    "a replica group signed by all is opened whole, in provider order",
    view(local({ deal: replicated() }), "none", { group: [replica(ME, "none"), replica(OTHER, "none")] }),
    {
      kind: "openGroup",
      replicas: [replica(ME, "none"), replica(OTHER, "none")].map((r) => ({ deal: r.deal, jobCreatorSig: r.jobCreatorSig!, providerSig: r.providerSig! })),
    },
  ],
  [
    "a replica group not yet signed by all waits",
    view(local({ deal: replicated() }), "none", { group: [replica(ME, "none"), replica(OTHER, "none", { status: "proposed", providerSig: undefined })] }),
    "wait",
  ],
  [
    "a replica group the solver broke is not opened",
    view(local({ deal: replicated() }), "none", { group: [replica(ME, "none"), replica(OTHER, "none", { status: "rejected" })] }),
    "wait",
  ],
  ["a replica group known in part waits", view(local({ deal: replicated() }), "none", { group: [replica(ME, "none")] }), "wait"],
  // Open: run it, commit it, or it is too late.
  ["an open deal the provider signed (opened by anyone) is run", view(local(), "open"), { kind: "run" }],
  [
    "an open deal with a result already stored is committed, not run again",
    view(local({ status: "ran", resultCid: "bafy-result" }), "open"),
    { kind: "commit", resultCid: "bafy-result" },
  ],
  ["an open deal past its deadline is given up as failed", view(local({ status: "opened" }), "open", { now: NOW + 661 }), "giveUp"],
  // Committed: move it to settlement.
  [
    "a result the chain has but the record lacks is recorded first",
    view(local({ status: "opened" }), "committed"),
    { kind: "record", status: "committed", why: "the chain says committed" },
  ],
  [
    "an optimistic deal waits out its challenge window",
    view(local({ status: "committed", deal: terms({ policy: Policy.optimistic, policyParam: 60n }) }), "committed", {
      chain: { state: "committed", committedAt: BigInt(NOW - 60), challengedAt: 0n },
    }),
    "wait",
  ],
  [
    "an optimistic deal is finalized once its window closed",
    view(local({ status: "committed", deal: terms({ policy: Policy.optimistic, policyParam: 60n }) }), "committed", {
      chain: { state: "committed", committedAt: BigInt(NOW - 61), challengedAt: 0n },
    }),
    { kind: "finalize" },
  ],
  [
    "an audited deal is finalized (the contract says when the draw is due)",
    view(local({ status: "committed", deal: terms({ policy: Policy.audit, policyParam: 100_000n }) }), "committed"),
    { kind: "finalize" },
  ],
  [
    "a committed replica claims the timeout of a silent replica past its deadline first",
    view(local({ status: "committed", deal: replicated() }), "committed", { now: NOW + 661, group: [replica(ME, "committed"), replica(OTHER, "open")] }),
    { kind: "claimTimeout", id: id(11), deal: replicated({ provider: OTHER }) },
  ],
  [
    "a committed replica waits for a replica still within its deadline",
    view(local({ status: "committed", deal: replicated() }), "committed", { group: [replica(ME, "committed"), replica(OTHER, "open")] }),
    "wait",
  ],
  [
    "a committed replica tallies its group once every replica committed or timed out",
    view(local({ status: "committed", deal: replicated() }), "committed", { group: [replica(ME, "committed"), replica(OTHER, "timedOut")] }),
    { kind: "settleGroup", deals: [replicated({ provider: ME }), replicated({ provider: OTHER })] },
  ],
  ["a committed replica whose group is unknown waits", view(local({ status: "committed", deal: replicated() }), "committed"), "wait"],
  ["a disputed deal puts its job back into the store for the mediator", view(local({ status: "committed" }), "challenged"), { kind: "restoreInputs" }],
  [
    "a disputed deal whose job is back in the store waits for the ruling",
    view(local({ status: "committed", inputsRestored: true }), "challenged", {
      chain: { state: "challenged", committedAt: 0n, challengedAt: BigInt(NOW - 599) },
    }),
    "wait",
  ],
  [
    "a dispute nobody ruled on within the mediation timeout is unwound",
    view(local({ status: "committed", inputsRestored: true }), "challenged", {
      chain: { state: "challenged", committedAt: 0n, challengedAt: BigInt(NOW - 600) },
    }),
    { kind: "claimMediationTimeout" },
  ],
  // Ended on chain.
  [
    "a settled deal is recorded as settled",
    view(local({ status: "committed" }), "settled"),
    { kind: "record", status: "settled", why: "settled on chain: paid" },
  ],
  ["a slashed deal is recorded as slashed", view(local({ status: "committed" }), "slashed"), { kind: "record", status: "slashed", why: "slashed on chain" }],
  ["a timed-out deal is recorded as failed", view(local({ status: "opened" }), "timedOut"), { kind: "record", status: "failed", why: "timed out on chain" }],
  [
    "a dispute unwound on chain (nobody ruled) is recorded as unwound: its collateral came back",
    view(local({ status: "committed", inputsRestored: true }), "timedOut", {
      chain: { state: "timedOut", committedAt: BigInt(NOW - 900), challengedAt: BigInt(NOW - 600) },
    }),
    { kind: "record", status: "unwound", why: "the dispute was unwound on chain: nobody ruled in time" },
  ],
];

for (const [name, v, expected] of cases) {
  test(name, () => {
    const step = nextStep(v);
    if (typeof expected === "string")
      assert.equal(
        step.kind,
        expected,
        JSON.stringify(step, (_k, x) => (typeof x === "bigint" ? String(x) : x)),
      );
    else assert.deepEqual(step, expected);
  });
}

const proposals: [string, DealRecord, boolean, number, boolean][] = [
  ["a new proposal is checked", record("proposed", {}), false, NOW, true],
  ["a proposal the provider already recorded is not checked again", record("proposed", {}), true, NOW, false],
  ["a proposal it already signed is not checked again", record("proposed", { me: true }), false, NOW, false],
  ["a proposal past its openBy is not checked", record("proposed", {}), false, NOW + 61, false],
  ["a proposal the solver already dropped is not checked", record("rejected", {}), false, NOW, false],
];

for (const [name, r, known, now, expected] of proposals) {
  test(name, () => assert.equal(shouldCheck(r, known, now), expected));
}
