// jobOutcome, the pure rule behind the History and the job page: from what the chain says about a
// job's deals, its status, what it cost the job creator, and how its verification went.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Policy } from "@lily/protocol";
import type { DealStateName } from "@lily/chain";
import { jobOutcome, policyText, type DealEventFact, type DealFacts } from "../src/http/jobOutcome.ts";

const JC = "0x00000000000000000000000000000000000000aa";
const PROVIDER = "0x00000000000000000000000000000000000000bb";
const PRICE = 10n;
const FEE = 1n;
const COLLATERAL = 50n;

const ev = (name: string, args: Record<string, unknown> = {}): DealEventFact => ({
  name,
  args,
  txHash: "0x01",
  blockNumber: 1n,
  logIndex: 0,
  gasUsed: 50_000n,
});

function deal(state: DealStateName, policy: number, events: DealEventFact[], committedAt = 1000n): DealFacts {
  return {
    dealId: "0xd1",
    deal: { price: PRICE, collateral: COLLATERAL, mediationFee: FEE, policy, policyParam: 60n, jobCreator: JC },
    state,
    committedAt,
    events,
  };
}

const cases: [string, { policy: number; deals: DealFacts[]; now?: number; stage?: string }, Partial<ReturnType<typeof flat>>][] = [
  [
    "no deal yet: the journal's stage, nothing locked",
    { policy: Policy.trust, deals: [], stage: "submitted" },
    { status: "submitted", verdict: "unchecked", paid: "0" },
  ],
  [
    "trust, settled: paid the price, nobody checked",
    { policy: Policy.trust, deals: [deal("settled", Policy.trust, [ev("DealSettled")], 0n)] },
    { status: "settled", verdict: "unchecked", checked: false, paid: "10" },
  ],
  [
    "optimistic, running: the price is locked",
    { policy: Policy.optimistic, deals: [deal("open", Policy.optimistic, [], 0n)] },
    { status: "open", verdict: "pending", paid: null, challengeable: false },
  ],
  [
    "optimistic, in the window: challengeable",
    { policy: Policy.optimistic, deals: [deal("committed", Policy.optimistic, [])], now: 1059 },
    { verdict: "window-open", challengeable: true, window: 1060 },
  ],
  [
    "optimistic, the window just closed: not challengeable",
    { policy: Policy.optimistic, deals: [deal("committed", Policy.optimistic, [])], now: 1060 },
    { verdict: "unchallenged", challengeable: false },
  ],
  [
    "optimistic, challenged: with the mediator, not challengeable again",
    { policy: Policy.optimistic, deals: [deal("challenged", Policy.optimistic, [ev("DealChallenged")])], now: 1001 },
    { status: "challenged", verdict: "mediating", challenged: true, challengeable: false, paid: null },
  ],
  [
    "optimistic, a false challenge: upheld, and the job creator paid the price and the fee",
    {
      policy: Policy.optimistic,
      deals: [
        deal("settled", Policy.optimistic, [
          ev("DealChallenged"),
          ev("Ruled", { providerCorrect: true }),
          ev("MediationFeePaid", { payer: JC, fee: FEE }),
          ev("DealSettled"),
        ]),
      ],
    },
    { status: "settled", verdict: "upheld", checked: true, challenged: true, paid: "11", received: "0" },
  ],
  [
    "optimistic, a cheat caught: slashed, the job creator refunded and paid the collateral less the fee",
    {
      policy: Policy.optimistic,
      deals: [
        deal("slashed", Policy.optimistic, [
          ev("DealChallenged"),
          ev("Ruled", { providerCorrect: false }),
          ev("MediationFeePaid", { payer: PROVIDER, fee: FEE }),
          ev("DealSlashed", { refunded: PRICE + FEE, slashed: COLLATERAL, mediatorFee: FEE }),
        ]),
      ],
    },
    { status: "slashed", verdict: "slashed", checked: true, paid: "0", received: "49" },
  ],
  [
    "audit, passed over by the draw",
    { policy: Policy.audit, deals: [deal("settled", Policy.audit, [ev("AuditDrawn", { audited: false }), ev("DealSettled")])] },
    { verdict: "not-drawn", checked: false, paid: "10" },
  ],
  [
    "a missed deadline: timed out, refunded",
    { policy: Policy.trust, deals: [deal("timedOut", Policy.trust, [ev("DealTimedOut")], 0n)] },
    { status: "timedOut", verdict: "timed-out", paid: "0" },
  ],
];

function flat(o: ReturnType<typeof jobOutcome>) {
  return {
    status: o.status,
    verdict: o.verification.verdict,
    checked: o.verification.checked,
    challenged: o.verification.challenged,
    challengeable: o.verification.challengeable,
    window: o.verification.windowClosesAt,
    paid: o.cost.paid?.toString() ?? null,
    received: o.cost.received.toString(),
  };
}

for (const [name, input, expected] of cases) {
  test(name, () => {
    const got = flat(jobOutcome({ stage: input.stage ?? "completed", policy: input.policy, policyParam: 60n, deals: input.deals, now: input.now ?? 5000 }));
    for (const [k, v] of Object.entries(expected)) assert.deepEqual(got[k as keyof typeof got], v, `${k} in ${JSON.stringify(got)}`);
  });
}

test("policies read as people type them", () => {
  assert.equal(policyText(Policy.trust, 0n), "trust");
  assert.equal(policyText(Policy.optimistic, 600n), "optimistic:600s");
  assert.equal(policyText(Policy.replicate, 3n), "replicate:3");
  assert.equal(policyText(Policy.audit, 100_000n), "audit:10%");
});
