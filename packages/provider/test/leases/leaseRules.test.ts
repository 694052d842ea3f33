// The provider's lease decisions as pure functions, one row per rule: which proposals it
// countersigns, which requests it answers, which vouchers it keeps, and what it does next about
// each lease it holds (close with the latest voucher, take the collateral back, record the chain).
import { test } from "node:test";
import assert from "node:assert/strict";
import { zeroAddress, type Address, type Hex } from "viem";
import { LilyError, answerCost, type InferenceRequest, type Lease } from "@lily/protocol";
import { checkLeaseProposal, type ModelTerms, type ProposalRules } from "../../src/leases/checkLeaseProposal.ts";
import { checkInference, type InferenceView } from "../../src/leases/checkInference.ts";
import { checkVoucher } from "../../src/leases/checkVoucher.ts";
import { nextLeaseStep, settleDelaySeconds, type LeaseView } from "../../src/leases/nextLeaseStep.ts";
import type { LocalLease } from "../../src/leases/leaseBook.ts";

const NOW = 1_000_000;
const ME: Address = "0x00000000000000000000000000000000000000A1";
const PAYER: Address = "0x00000000000000000000000000000000000000B2";
const MEDIATOR: Address = "0x00000000000000000000000000000000000000C3";
const CREATOR: Address = "0x00000000000000000000000000000000000000D4";
const STRANGER: Address = "0x00000000000000000000000000000000000000E5";
const MODEL = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";
const OTHER_MODEL = "bafkreie7q3iidccmpvszul7kudcvvuavuo7u6gzlbobczuk5nqk3b4akba";
const SIG = `0x${"1".repeat(130)}` as Hex;
const LEASE_ID = `0x${"a".repeat(64)}` as Hex;

const model: ModelTerms = {
  cid: MODEL,
  inputPricePer1k: 1000n,
  outputPricePer1k: 2000n,
  collateral: 5000n,
  royalty: { moduleCreator: CREATOR, royaltyBps: 1000 },
};
const rules: ProposalRules = { provider: ME, models: new Map([[MODEL, model]]), mediators: [MEDIATOR], maxOpenDelaySeconds: 600, maxLeaseSeconds: 7200 };

function lease(over: Partial<Lease> = {}): Lease {
  return {
    payer: PAYER,
    provider: ME,
    model: MODEL,
    budget: 1_000_000n,
    collateral: 5000n,
    inputPricePer1k: 1000n,
    outputPricePer1k: 2000n,
    openBy: BigInt(NOW + 120),
    expiresAt: BigInt(NOW + 3600),
    mediator: MEDIATOR,
    mediationFee: 100n,
    auditBps: 100,
    moduleCreator: CREATOR,
    royaltyBps: 1000,
    nonce: 1n,
    ...over,
  };
}

function refusedWith(f: () => unknown, field: string, code?: string): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof LilyError, `a LilyError, got ${e}`);
    assert.equal(e.field, field, e.message);
    if (code) assert.equal(e.code, code);
    return true;
  });
}

test("a lease on the provider's own terms is countersigned", () => {
  assert.equal(checkLeaseProposal(lease(), rules, NOW), model);
  assert.equal(checkLeaseProposal(lease({ mediator: zeroAddress, mediationFee: 0n, auditBps: 0 }), rules, NOW), model, "no mediator at all");
  assert.equal(checkLeaseProposal(lease({ inputPricePer1k: 5000n, outputPricePer1k: 9000n }), rules, NOW), model, "higher prices");
});

const refusals: [string, Partial<Lease>, string, string][] = [
  ["it names another provider", { provider: STRANGER }, "lease.provider", "INVALID_INPUT"],
  ["its payer is the provider itself", { payer: ME }, "lease.payer", "INVALID_INPUT"],
  ["it names a model the provider does not serve", { model: OTHER_MODEL }, "lease.model", "UNKNOWN_MODULE"],
  ["its input price is below the provider's", { inputPricePer1k: 999n }, "lease.inputPricePer1k", "INVALID_INPUT"],
  ["its output price is below the provider's", { outputPricePer1k: 1999n }, "lease.outputPricePer1k", "INVALID_INPUT"],
  ["its collateral is below the offer's", { collateral: 4999n }, "lease.collateral", "INVALID_INPUT"],
  ["its collateral is above the offer's", { collateral: 5001n }, "lease.collateral", "INVALID_INPUT"],
  ["it names a mediator the provider does not accept", { mediator: STRANGER }, "lease.mediator", "INVALID_INPUT"],
  ["it pays a larger royalty than the model's", { royaltyBps: 10_000 }, "lease.royaltyBps", "INVALID_INPUT"],
  ["it pays the royalty to someone else", { moduleCreator: PAYER }, "lease.moduleCreator", "INVALID_INPUT"],
  ["its openBy has passed", { openBy: BigInt(NOW) }, "lease.openBy", "DEADLINE_PASSED"],
  ["its openBy is too far away", { openBy: BigInt(NOW + 601) }, "lease.openBy", "INVALID_INPUT"],
  ["it expires before it can open", { expiresAt: BigInt(NOW + 120) }, "lease.expiresAt", "INVALID_INPUT"],
  ["it lasts longer than the provider serves", { expiresAt: BigInt(NOW + 7201) }, "lease.expiresAt", "INVALID_INPUT"],
  ["its budget is zero", { budget: 0n }, "lease.budget", "INVALID_INPUT"],
];
for (const [why, over, field, code] of refusals) {
  test(`a lease is refused when ${why}`, () => refusedWith(() => checkLeaseProposal(lease(over), rules, NOW), field, code));
}

const request = (over: Partial<InferenceRequest> = {}): InferenceRequest =>
  ({ kind: "completion", prompt: "hello", model: MODEL, maxTokens: 100, temperature: 0, topP: 1, seed: 1, stop: [], ...over }) as InferenceRequest;

function view(over: Partial<InferenceView> & { owed?: bigint; paid?: bigint; state?: LocalLease["state"]; terms?: Partial<Lease> } = {}): InferenceView {
  const { owed = 0n, paid = 0n, state = "open", terms = {}, ...rest } = over;
  return {
    lease: { lease: lease(terms), state, owed, voucher: { amount: paid, requests: 0n } },
    request: request(),
    inputTokens: 10,
    contextLength: 512,
    reserved: 0n,
    creditAnswers: 2,
    now: NOW + 200,
    ...rest,
  };
}

test("a request under an open lease is answered, holding its worst case: the prompt and the longest answer the context allows", () => {
  assert.deepEqual(checkInference(view()), { worstCase: answerCost(lease(), 10, 100), maxOutputTokens: 100 });
  assert.deepEqual(checkInference(view({ request: request({ maxTokens: 10_000 }) })), { worstCase: answerCost(lease(), 10, 502), maxOutputTokens: 502 });
});

const worst = answerCost(lease(), 10, 100);
const inferenceRefusals: [string, Partial<Parameters<typeof view>[0]>, string, string][] = [
  ["the lease is not open on chain yet", { state: "proposed" }, "lease", "CONFLICT"],
  ["the lease has been closed", { state: "closed" }, "lease", "CONFLICT"],
  ["the lease has expired", { now: NOW + 3600 }, "lease", "DEADLINE_PASSED"],
  ["the request names another model", { request: request({ model: OTHER_MODEL }) }, "request.model", "INVALID_INPUT"],
  ["the prompt fills the context", { inputTokens: 512 }, "request.prompt", "INVALID_INPUT"],
  [
    "the chat fills the context",
    { inputTokens: 600, request: request({ kind: "chat", messages: [{ role: "user", content: "x" }] } as never) },
    "request.messages",
    "INVALID_INPUT",
  ],
  ["the budget left cannot pay the worst case", { owed: 1_000_000n - worst + 1n, paid: 1_000_000n - worst + 1n }, "lease.budget", "INSUFFICIENT_DEPOSIT"],
  ["answers in flight hold the rest of the budget", { reserved: 1_000_000n - worst + 1n }, "lease.budget", "INSUFFICIENT_DEPOSIT"],
  ["the payer left more than two worst cases unpaid", { owed: 2n * worst + 1n, paid: 0n }, "voucher", "INSUFFICIENT_DEPOSIT"],
];
for (const [why, over, field, code] of inferenceRefusals) {
  test(`a request is refused when ${why}`, () => refusedWith(() => checkInference(view(over)), field, code));
}

test("a payer that paid up to its last two answers' worst case is still served", () => {
  assert.ok(checkInference(view({ owed: 2n * worst + 500n, paid: 500n })));
});

const held = { amount: 100n, requests: 2n, signature: SIG };
const voucher = (amount: bigint, requests: bigint, leaseId = LEASE_ID) => ({ lease: leaseId, amount, requests });
const me = { id: LEASE_ID, lease: lease() };

test("a voucher for more replaces the one held; the same one again changes nothing", () => {
  assert.deepEqual(checkVoucher(voucher(150n, 3n), me, held), { kind: "newer" });
  assert.deepEqual(checkVoucher(voucher(100n, 2n), me, held), { kind: "same" });
  assert.deepEqual(checkVoucher(voucher(10n, 1n), me, { amount: 0n, requests: 0n }), { kind: "newer" }, "the first voucher");
});

const voucherRefusals: [string, ReturnType<typeof voucher>, string, string][] = [
  ["it is for another lease", voucher(150n, 3n, `0x${"b".repeat(64)}` as Hex), "voucher.lease", "INVALID_INPUT"],
  ["it is above the lease's budget", voucher(1_000_001n, 3n), "voucher.amount", "INVALID_INPUT"],
  ["it is lower than the one held", voucher(99n, 3n), "voucher.amount", "CONFLICT"],
  ["it counts fewer answers than the one held", voucher(150n, 1n), "voucher.requests", "CONFLICT"],
];
for (const [why, v, field, code] of voucherRefusals) {
  test(`a voucher is refused when ${why}`, () => refusedWith(() => checkVoucher(v, me, held), field, code));
}

function local(over: Partial<LocalLease> = {}): LocalLease {
  return {
    id: LEASE_ID,
    lease: lease(),
    payerSignature: SIG,
    providerSignature: SIG,
    state: "open",
    collateral: "locked",
    owed: 300n,
    requests: 3n,
    voucher: { amount: 300n, requests: 3n, signature: SIG },
    ...over,
  };
}

const CLAIM = 3600;
const AUDIT = 86_400;
const expires = NOW + 3600;
function lv(over: Partial<LeaseView> & { chainState?: LeaseView["chain"]["state"]; chainCollateral?: LeaseView["chain"]["collateral"] } = {}): LeaseView {
  const { chainState = "open", chainCollateral = "locked", ...rest } = over;
  return {
    local: local(),
    chain: { state: chainState, collateral: chainCollateral },
    claimWindowSeconds: CLAIM,
    auditWindowSeconds: AUDIT,
    inFlight: 0,
    now: NOW,
    ...rest,
  };
}

const steps: [string, LeaseView, string, Record<string, unknown>?][] = [
  [
    "a proposed lease the payer opened is recorded open",
    lv({ local: local({ state: "proposed", collateral: "none" }) }),
    "record",
    { state: "open", collateral: "locked" },
  ],
  ["a proposed lease waits for its opening until openBy", lv({ local: local({ state: "proposed", collateral: "none" }), chainState: "none" }), "wait"],
  [
    "a proposed lease never opened by its openBy is recorded expired",
    lv({ local: local({ state: "proposed", collateral: "none" }), chainState: "none", now: NOW + 121 }),
    "record",
    { state: "expired", collateral: "none" },
  ],
  ["an open lease is served until it expires", lv({ now: expires - 1 }), "wait"],
  ["an open lease waits a little after expiry for the last vouchers", lv({ now: expires + settleDelaySeconds(CLAIM) - 1 }), "wait"],
  [
    "an open lease is closed with the latest voucher once service has ended",
    lv({ now: expires + settleDelaySeconds(CLAIM) }),
    "close",
    { amount: 300n, requests: 3n },
  ],
  [
    "an open lease is closed early when its budget is spent and paid",
    lv({ local: local({ owed: 1_000_000n, voucher: { amount: 1_000_000n, requests: 9n, signature: SIG } }) }),
    "close",
    { amount: 1_000_000n },
  ],
  [
    "a spent lease with an answer in flight is not closed yet",
    lv({ local: local({ owed: 1_000_000n, voucher: { amount: 1_000_000n, requests: 9n, signature: SIG } }), inFlight: 1 }),
    "wait",
  ],
  [
    "an open lease never paid is closed for nothing, which frees the budget",
    lv({ local: local({ voucher: { amount: 0n, requests: 0n } }), now: expires + 60 }),
    "close",
    { amount: 0n, requests: 0n },
  ],
  ["past the claim window there is nothing to close", lv({ now: expires + CLAIM + 1 }), "wait"],
  ["an open lease the payer reclaimed is recorded expired", lv({ chainState: "expired", now: expires + CLAIM + 1 }), "record", { state: "expired" }],
  ["a lease closed on chain is recorded closed", lv({ chainState: "closed", now: expires + 61 }), "record", { state: "closed" }],
  // The chain node lost the block with our close (a restart without its last blocks): the lease is
  // open again, and past the claim window the payer could reclaim the whole budget.
  [
    "a close the chain lost is sent again with the latest voucher within the claim window",
    lv({ local: local({ state: "closed" }), chainState: "open", now: expires + 61 }),
    "close",
    { amount: 300n, requests: 3n },
  ],
  [
    "a close the chain lost past the claim window cannot be sent again",
    lv({ local: local({ state: "closed" }), chainState: "open", now: expires + CLAIM + 1 }),
    "wait",
  ],
  [
    "a closed lease's collateral stays locked through the audit window",
    lv({ local: local({ state: "closed" }), chainState: "closed", now: expires + AUDIT }),
    "wait",
  ],
  [
    "a closed lease's collateral is released after the audit window",
    lv({ local: local({ state: "closed" }), chainState: "closed", now: expires + AUDIT + 1 }),
    "releaseCollateral",
  ],
  [
    "a collateral the chain released is recorded",
    lv({ local: local({ state: "closed" }), chainState: "closed", chainCollateral: "released" }),
    "record",
    { collateral: "released" },
  ],
  [
    "a collateral the mediator slashed is recorded",
    lv({ local: local({ state: "closed" }), chainState: "closed", chainCollateral: "slashed" }),
    "record",
    { collateral: "slashed" },
  ],
];
for (const [why, v, kind, fields = {}] of steps) {
  test(why, () => {
    const step = nextLeaseStep(v);
    assert.equal(
      step.kind,
      kind,
      JSON.stringify(step, (_k, x) => (typeof x === "bigint" ? x.toString() : x)),
    );
    for (const [k, x] of Object.entries(fields)) assert.equal((step as Record<string, unknown>)[k], x, k);
  });
}
