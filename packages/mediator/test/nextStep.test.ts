import { test } from "node:test";
import assert from "node:assert/strict";
import type { Address, Hex } from "viem";
import { NO_REPLICAS, Policy, type DealMessage } from "@lily/protocol";
import { nextStep, type ChainView, type DealOnChain, type Step, type StepContext } from "../src/nextStep.ts";
import type { Dispute } from "../src/dispute.ts";

const hex = (n: number) => `0x${n.toString(16).padStart(64, "0")}` as Hex;
const addr = (n: number) => `0x${n.toString(16).padStart(40, "0")}` as Address;
const [JC, P1, P2, ME, OTHER] = [addr(0xc1), addr(0xa1), addr(0xa2), addr(0x31), addr(0x32)];
const TURN = 300;
const TIMEOUT = 600;
const CHALLENGED_AT = 10_000;
const ctx: StepContext = { me: ME, mediatorTurnSeconds: TURN, mediationTimeoutSeconds: TIMEOUT };

const deal = (provider: Address, policy: number = Policy.optimistic): DealMessage => ({
  jobCreator: JC,
  provider,
  jobOffer: hex(7),
  resourceOffer: hex(8),
  price: 3n,
  collateral: 5n,
  openBy: 1n,
  deadline: 2n,
  policy,
  policyParam: 0n,
  mediationFee: 1n,
  mediators: hex(9),
  replicas: NO_REPLICAS,
  moduleCreator: addr(0),
  royaltyBps: 0,
});
const single = deal(P1);
const group = [deal(P1, Policy.replicate), deal(P2, Policy.replicate)];

const dispute = (over: Partial<Dispute> = {}): Dispute => ({
  key: hex(1),
  kind: "challenge",
  event: "DealChallenged",
  txHash: hex(2),
  blockNumber: 100,
  status: "seen",
  attempts: 0,
  deals: [single],
  mediators: [ME, OTHER],
  ...over,
});
const onChain = (over: Partial<DealOnChain> = {}): DealOnChain => ({ state: "challenged", drawBlock: 100, challengedAt: CHALLENGED_AT, seed: 0n, ...over });
const view = (over: Partial<ChainView> = {}): ChainView => ({ block: 110, time: CHALLENGED_AT + 5, deals: [onChain()], turn: ME, ...over });

const cases: { says: string; dispute: Dispute; view?: ChainView; me?: Address; step: Step }[] = [
  {
    says: "a dispute whose terms are unknown has them resolved first",
    dispute: dispute({ deals: undefined, mediators: undefined }),
    step: { kind: "resolve-terms" },
  },
  {
    says: "a mediator that is the deal's job creator skips it, whatever the chain says",
    dispute: dispute({ mediators: [JC, ME] }),
    me: JC,
    step: { kind: "not-mine", reason: "we are a party to the dispute (its job creator)" },
  },
  {
    says: "a mediator that is one of a replica group's providers skips it",
    dispute: dispute({ kind: "replicas", deals: group, mediators: [P2, ME] }),
    me: P2,
    step: { kind: "not-mine", reason: "we are a party to the dispute (its provider)" },
  },
  { says: "with the terms known, the chain is read", dispute: dispute(), step: { kind: "observe" } },
  {
    says: "a dispute no longer challenged, with our ruling on chain, is ruled (sent before a crash)",
    dispute: dispute(),
    view: view({ deals: [onChain({ state: "slashed" })], turn: undefined, ruled: { txHash: hex(0xaa), mediator: ME } }),
    step: { kind: "ruled", txHash: hex(0xaa) },
  },
  {
    says: "a dispute another mediator ruled on is not ours",
    dispute: dispute(),
    view: view({ deals: [onChain({ state: "settled" })], turn: undefined, ruled: { txHash: hex(0xbb), mediator: OTHER } }),
    step: { kind: "not-mine", reason: "resolved without us (settled)" },
  },
  {
    says: "a dispute unwound at its timeout is not ours",
    dispute: dispute(),
    view: view({ deals: [onChain({ state: "timedOut" })], turn: undefined }),
    step: { kind: "not-mine", reason: "resolved without us (timedOut)" },
  },
  {
    says: "a dispute whose deal is committed again (the node lost the blocks that raised it) is looked at again, not given up",
    dispute: dispute(),
    view: view({ deals: [onChain({ state: "committed", challengedAt: 0 })], turn: undefined }),
    step: { kind: "wait", reason: "the chain no longer has the dispute (committed): the node lost blocks?", recheckAt: CHALLENGED_AT + 5 + TURN / 2 },
  },
  {
    says: "a dispute past its mediation timeout can no longer be ruled on",
    dispute: dispute({ ruling: { correct: [true], comparator: 0, details: ["ok"] } }),
    view: view({ time: CHALLENGED_AT + TIMEOUT }),
    step: { kind: "not-mine", reason: `its mediation timed out at ${CHALLENGED_AT + TIMEOUT} without our ruling` },
  },
  {
    says: "the mediator list is resolved before anything else is asked",
    dispute: dispute({ mediators: undefined }),
    view: view({ turn: undefined }),
    step: { kind: "resolve-mediators" },
  },
  {
    says: "a mediator the parties did not both accept skips it",
    dispute: dispute({ mediators: [OTHER] }),
    view: view({ turn: undefined }),
    step: { kind: "not-mine", reason: "not in the mediator list both parties accepted" },
  },
  { says: "once listed, whose turn it is is read", dispute: dispute(), view: view({ turn: undefined }), step: { kind: "observe" } },
  {
    says: "before the draw's block is mined, it looks again at the block after it",
    dispute: dispute(),
    view: view({ block: 100, turn: "not-drawn-yet" }),
    step: { kind: "wait", reason: "the draw's block is not mined yet", recheckBlock: 102 },
  },
  {
    says: "while another has the turn and the draw is not locked, it looks again when the turn passes or the block hashes change",
    dispute: dispute(),
    view: view({ turn: OTHER }),
    step: { kind: "wait", reason: `mediator ${OTHER} has the turn`, recheckAt: CHALLENGED_AT + TURN, recheckBlock: 358 },
  },
  {
    says: "while another has the turn of a locked draw, only time moves it",
    dispute: dispute(),
    view: view({ turn: OTHER, deals: [onChain({ seed: 42n })] }),
    step: { kind: "wait", reason: `mediator ${OTHER} has the turn`, recheckAt: CHALLENGED_AT + TURN },
  },
  {
    says: "in a later turn of another, it looks again at the next turn, never after the timeout",
    dispute: dispute(),
    view: view({ time: CHALLENGED_AT + TURN + 5, turn: OTHER, deals: [onChain({ seed: 42n })] }),
    step: { kind: "wait", reason: `mediator ${OTHER} has the turn`, recheckAt: CHALLENGED_AT + TIMEOUT },
  },
  { says: "drawn, it locks the draw before anything else", dispute: dispute(), view: view(), step: { kind: "lock-draw", deal: single } },
  {
    says: "its turn come because the drawn one was absent, it locks the draw and goes on in its turn",
    dispute: dispute(),
    view: view({ time: CHALLENGED_AT + TURN + 1 }),
    step: { kind: "lock-draw", deal: single },
  },
  {
    says: "for a replica group, it locks the first disputed replica in provider order",
    dispute: dispute({ kind: "replicas", deals: group }),
    view: view({ deals: [onChain({ state: "timedOut", challengedAt: 0, drawBlock: 0 }), onChain()] }),
    step: { kind: "lock-draw", deal: group[1]! },
  },
  {
    says: "with the draw locked on its turn, it re-runs the job",
    dispute: dispute(),
    view: view({ deals: [onChain({ seed: 42n })] }),
    step: { kind: "re-run" },
  },
  {
    says: "with its ruling decided, on its turn, it rules",
    dispute: dispute({ status: "ruling", ruling: { correct: [false], comparator: 0, details: ["stdout: bytes differ"] } }),
    view: view({ deals: [onChain({ seed: 42n })] }),
    step: { kind: "rule" },
  },
  {
    says: "with its ruling decided on the results the chain still holds, it rules",
    dispute: dispute({ status: "ruling", ruling: { correct: [false], comparator: 0, details: ["stdout: bytes differ"], digests: [hex(0xd1)] } }),
    view: view({ deals: [onChain({ seed: 42n, digest: hex(0xd1) })] }),
    step: { kind: "rule" },
  },
  {
    says: "with its ruling decided on a result the chain no longer holds (lost blocks, another commit since), it re-runs",
    dispute: dispute({ status: "ruling", ruling: { correct: [false], comparator: 0, details: ["stdout: bytes differ"], digests: [hex(0xd1)] } }),
    view: view({ deals: [onChain({ seed: 42n, digest: hex(0xd2) })] }),
    step: { kind: "re-run" },
  },
  {
    says: "with its ruling decided but the turn passed on, it waits for its turn again",
    dispute: dispute({ status: "ruling", ruling: { correct: [false], comparator: 0, details: ["stdout: bytes differ"] } }),
    view: view({ time: CHALLENGED_AT + TURN, turn: OTHER, deals: [onChain({ seed: 42n })] }),
    step: { kind: "wait", reason: `mediator ${OTHER} has the turn`, recheckAt: CHALLENGED_AT + TIMEOUT },
  },
];

for (const c of cases) {
  test(`next step: ${c.says}`, () => {
    assert.deepEqual(nextStep(c.dispute, c.view, { ...ctx, me: c.me ?? ME }), c.step);
  });
}
