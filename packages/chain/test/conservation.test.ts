// Property: whatever anyone does, in any order, no token is created, lost or frozen.
// fast-check drives random sequences of deposits, withdrawals, deals under every policy (and
// replica groups), right and wrong results, challenges (by the job creator and by others),
// finalizations and audit draws, rulings (by the drawn mediator and by others), timeouts of
// every kind, moves of the clock and of the block height, against the real contracts on a
// real anvil. Calls that revert are part of the game. After every step:
//   token.balanceOf(deals) == Σ escrow balances + totalLocked
//   totalLocked == Σ over unfinished deals of (price + reserve + collateral)
//   Σ every holder's token balance == supply
// and at the end of each run, once the clock has run past every deadline and timeout, every
// deal can be brought to a final state, totalLocked is zero, and every escrow balance can be
// withdrawn, leaving the contract empty.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { keccak256, parseEther, toHex, type Address, type Hex } from "viem";
import { isLilyError, Policy, type DealMessage, type PolicyName } from "@lily/protocol";
import {
  challenge,
  claimMediationTimeout,
  claimTimeout,
  commitResult,
  dealId,
  dealState,
  deposit,
  escrowBalance,
  finalize,
  mediatorOf,
  groupMediatorOf,
  lockDraw,
  rule,
  ruleReplicas,
  settleReplicas,
  tokenBalance,
  totalLocked,
  withdraw,
  type DealStateName,
  type LilyClient,
} from "../src/index.ts";
import { SUPPLY, startFixture, type Fixture } from "./fixture.ts";

const MEDIATION_TIMEOUT = 300;
const NUM_RUNS = Number(process.env.CONSERVATION_RUNS ?? 8);

let f: Fixture;
let parties: LilyClient[]; // job creators and providers: they deposit and withdraw
let holders: Address[]; // everyone who can hold LILY
let snapshot: Hex;
const rpc = (method: string, params: unknown[] = []) => f.deployer.publicClient.request({ method, params } as never) as Promise<unknown>;

before(async () => {
  f = await startFixture({ mediationTimeoutSeconds: MEDIATION_TIMEOUT });
  parties = [f.jobCreator, f.stranger, ...f.providers];
  holders = [f.deployer, ...parties, ...f.mediators, f.moduleCreator].map((c) => c.account!.address);
  snapshot = (await rpc("evm_snapshot")) as Hex;
});
after(() => f.stop());

// ---- Steps -------------------------------------------------------------------------------

const lily = (max: number) => fc.integer({ min: 0, max: max * 10 }).map((tenths) => parseEther(String(tenths / 10)));
const policyArb = fc.oneof(
  { arbitrary: fc.constant<PolicyName>("trust"), weight: 1 },
  { arbitrary: fc.constantFrom<PolicyName>("optimistic", "audit"), weight: 4 },
);

type Step =
  | { kind: "deposit"; who: number; amount: bigint }
  | { kind: "withdraw"; who: number; amount: bigint }
  | {
      kind: "open";
      policy: PolicyName;
      jc: number;
      provider: number;
      price: bigint;
      collateral: bigint;
      fee: bigint;
      royaltyBps: number;
      param: number;
      deadlineIn: number;
    }
  | { kind: "openGroup"; k: number; jc: number; price: bigint; collateral: bigint; fee: bigint; deadlineIn: number }
  | { kind: "commit"; deal: number; right: boolean }
  | { kind: "challenge"; deal: number; byJobCreator: boolean }
  | { kind: "finalize"; deal: number }
  | { kind: "settleReplicas"; group: number }
  | { kind: "rule"; deal: number; providerCorrect: boolean; byDrawn: boolean }
  | { kind: "ruleReplicas"; group: number; correct: boolean[]; byDrawn: boolean }
  | { kind: "claimTimeout"; deal: number }
  | { kind: "claimMediationTimeout"; deal: number }
  | { kind: "advance"; deal: number; choice: number }
  | { kind: "time"; seconds: number }
  | { kind: "mine"; blocks: number };

const index = fc.nat({ max: 50 });
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant("deposit" as const), who: fc.nat({ max: 4 }), amount: lily(30) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant("withdraw" as const), who: fc.nat({ max: 4 }), amount: lily(60) }), weight: 1 },
  {
    arbitrary: fc.record({
      kind: fc.constant("open" as const),
      policy: policyArb,
      jc: fc.nat({ max: 1 }),
      provider: fc.nat({ max: 2 }),
      price: lily(5),
      // A multiple of the price, so audit(50%) is mostly safe (>= 2×) and sometimes not.
      collateral: fc.constantFrom(0n, 1n, 2n, 3n),
      fee: lily(1),
      royaltyBps: fc.oneof({ arbitrary: fc.constantFrom(0, 500, 10_000), weight: 9 }, { arbitrary: fc.constant(10_001), weight: 1 }),
      // Which parameter: 0 is unsafe (a zero window, p = 0); others pick a window or a p.
      param: fc.nat({ max: 9 }),
      deadlineIn: fc.constantFrom(120, 600, 3600),
    }),
    weight: 10,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant("openGroup" as const),
      k: fc.constantFrom(2, 3),
      jc: fc.nat({ max: 1 }),
      price: lily(3),
      collateral: lily(6),
      fee: lily(1),
      deadlineIn: fc.constantFrom(120, 900),
    }),
    weight: 3,
  },
  { arbitrary: fc.record({ kind: fc.constant("commit" as const), deal: index, right: fc.nat({ max: 9 }).map((n) => n < 7) }), weight: 12 },
  { arbitrary: fc.record({ kind: fc.constant("challenge" as const), deal: index, byJobCreator: fc.nat({ max: 4 }).map((n) => n > 0) }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant("finalize" as const), deal: index }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant("settleReplicas" as const), group: index }), weight: 3 },
  {
    arbitrary: fc.record({ kind: fc.constant("rule" as const), deal: index, providerCorrect: fc.boolean(), byDrawn: fc.nat({ max: 3 }).map((n) => n > 0) }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant("ruleReplicas" as const),
      group: index,
      correct: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
      byDrawn: fc.nat({ max: 3 }).map((n) => n > 0),
    }),
    weight: 3,
  },
  { arbitrary: fc.record({ kind: fc.constant("claimTimeout" as const), deal: index }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant("claimMediationTimeout" as const), deal: index }), weight: 1 },
  // Moves an unfinished deal one legal step on, so whole flows (disputes, rulings, replica
  // tallies) happen often; the steps above supply the misdirected and adversarial calls.
  { arbitrary: fc.record({ kind: fc.constant("advance" as const), deal: index, choice: fc.nat({ max: 11 }) }), weight: 12 },
  { arbitrary: fc.record({ kind: fc.constant("time" as const), seconds: fc.integer({ min: 1, max: MEDIATION_TIMEOUT }) }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant("mine" as const), blocks: fc.constantFrom(1, 2, 3, 300) }), weight: 1 },
);

// ---- A run -------------------------------------------------------------------------------

interface World {
  deals: DealMessage[];
  groups: DealMessage[][];
  opened: number;
}

const pick = <T>(list: readonly T[], i: number): T | undefined => (list.length ? list[i % list.length] : undefined);

/**
 * The deal a step acts on: usually one whose state and policy the step applies to (so whole
 * flows happen: commit, challenge, rule), but for one `i` in seven any deal at all, so
 * misdirected calls are exercised too.
 */
async function target(w: World, i: number, fits: (d: DealMessage, state: DealStateName) => boolean): Promise<DealMessage | undefined> {
  if (i % 7 === 6) return pick(w.deals, i);
  const now = await states(w);
  return pick(
    w.deals.filter((d, j) => fits(d, now[j])),
    i,
  );
}
const reserveOf = (d: DealMessage) => (d.policy === Policy.trust ? 0n : d.mediationFee);
const rightResult = (d: DealMessage) => keccak256(toHex(`right result of ${d.jobOffer}`));

/** Sign and open; a rejected open is fine (unsafe terms, too little escrow) and recorded as nothing. */
async function tryOpen(w: World, terms: Partial<DealMessage> & { deadlineIn: number }): Promise<DealMessage | undefined> {
  const signed = await f.newDeal(terms);
  if (!(await attempt(() => f.open(signed)))) return undefined;
  w.deals.push(signed.deal);
  return signed.deal;
}

/** Run a contract call that may legitimately revert; anything but a decoded revert fails the test. */
async function attempt(action: () => Promise<unknown>, what = current): Promise<boolean> {
  try {
    await action();
    tally.set(`${what} ok`, (tally.get(`${what} ok`) ?? 0) + 1);
    return true;
  } catch (e) {
    if (isLilyError(e) && ["CHAIN_REVERT", "INSUFFICIENT_DEPOSIT", "DEADLINE_PASSED", "INVALID_INPUT", "CONFLICT"].includes(e.code)) {
      const why = `${what} rejected (${String(e.details.error ?? e.code)})`;
      tally.set(why, (tally.get(why) ?? 0) + 1);
      return false;
    }
    throw e;
  }
}

/** How often each step succeeded or was rejected, and the final states reached: the test's coverage. */
const tally = new Map<string, number>();
let current = "";

/** Like {target}, for replica groups, judged by their members' states. */
async function targetGroup(w: World, i: number, fits: (states: DealStateName[]) => boolean): Promise<DealMessage[] | undefined> {
  if (i % 7 === 6) return pick(w.groups, i);
  const now = await states(w);
  const stateOf = (d: DealMessage) => now[w.deals.indexOf(d)];
  return pick(
    w.groups.filter((g) => g.length > 0 && fits(g.map(stateOf))),
    i,
  );
}

async function drawnOrOther(dealOrGroup: DealMessage | DealMessage[], byDrawn: boolean, salt: number): Promise<LilyClient> {
  if (!byDrawn) return pick([...f.mediators, f.stranger, f.provider, f.jobCreator], salt)!;
  await f.mine(2);
  try {
    const drawn = Array.isArray(dealOrGroup)
      ? await groupMediatorOf(f.deployer, { deals: dealOrGroup, mediators: f.mediatorSet })
      : await mediatorOf(f.deployer, { deal: dealOrGroup, mediators: f.mediatorSet });
    return f.clientOf(drawn);
  } catch {
    return f.mediators[0]; // not challenged: any caller is rejected
  }
}

async function apply(w: World, s: Step): Promise<void> {
  current = s.kind;
  switch (s.kind) {
    case "deposit": {
      const who = parties[s.who];
      if (s.amount > 0n && s.amount <= (await tokenBalance(who))) await deposit(who, { amount: s.amount });
      return;
    }
    case "withdraw":
      await attempt(() => withdraw(parties[s.who], { amount: s.amount }));
      return;
    case "open": {
      const windows = [60n, 600n, 600n];
      const ps = [500_000n, 1_000_000n];
      const param = s.param === 0 || s.policy === "trust" ? 0n : s.policy === "optimistic" ? windows[s.param % 3] : ps[s.param % 2];
      const extra = s.policy === "trust" ? {} : { mediationFee: s.fee };
      await tryOpen(w, {
        ...f.policyTerms(s.policy, param, extra),
        jobCreator: parties[s.jc].account!.address,
        provider: f.providers[s.provider].account!.address,
        jobOffer: keccak256(toHex(`conservation job ${++w.opened}`)),
        price: s.price,
        collateral: s.price * s.collateral + s.fee,
        royaltyBps: s.royaltyBps,
        deadlineIn: s.deadlineIn,
      });
      return;
    }
    case "openGroup": {
      ++w.opened;
      const group = await f.newGroup(f.providers.slice(0, s.k), {
        mediationFee: s.fee,
        jobCreator: parties[s.jc].account!.address,
        price: s.price,
        collateral: s.collateral + s.fee,
        deadlineIn: s.deadlineIn,
      });
      // A group opens whole or not at all.
      if (await attempt(() => f.openGroup(group))) {
        w.deals.push(...group.deals);
        w.groups.push(group.deals);
      }
      return;
    }
    case "commit": {
      const deal = await target(w, s.deal, (_, st) => st === "open");
      if (!deal) return;
      const resultDigest = s.right ? rightResult(deal) : keccak256(toHex(`wrong ${dealId(f.addresses, deal)} ${s.deal}`));
      await attempt(() => commitResult(f.clientOf(deal.provider), { deal, resultDigest }));
      return;
    }
    case "challenge": {
      const deal = await target(w, s.deal, (d, st) => st === "committed" && d.policy === Policy.optimistic);
      if (deal) await attempt(() => challenge(s.byJobCreator ? f.clientOf(deal.jobCreator) : f.stranger, { deal }));
      return;
    }
    case "finalize": {
      const deal = await target(w, s.deal, (d, st) => st === "committed" && d.policy !== Policy.replicate);
      if (deal) await attempt(() => finalize(f.stranger, { deal }));
      return;
    }
    case "settleReplicas": {
      const deals = await targetGroup(w, s.group, (st) => st.includes("committed"));
      if (deals?.length) await attempt(() => settleReplicas(f.stranger, { deals }));
      return;
    }
    case "rule": {
      const deal = await target(w, s.deal, (d, st) => st === "challenged" && d.policy !== Policy.replicate);
      if (!deal) return;
      const mediator = await drawnOrOther(deal, s.byDrawn, s.deal);
      await attempt(() => rule(mediator, { deal, mediators: f.mediatorSet, providerCorrect: s.providerCorrect, comparator: "exact" }));
      return;
    }
    case "ruleReplicas": {
      const deals = await targetGroup(w, s.group, (st) => st.includes("challenged"));
      if (!deals?.length) return;
      const mediator = await drawnOrOther(deals, s.byDrawn, s.group);
      const correct = deals.map((_, i) => s.correct[i]);
      await attempt(() => ruleReplicas(mediator, { deals, mediators: f.mediatorSet, correct, comparator: "exact" }));
      return;
    }
    case "claimTimeout": {
      const deal = await target(w, s.deal, (_, st) => st === "open");
      if (deal) await attempt(() => claimTimeout(f.stranger, { deal }));
      return;
    }
    case "claimMediationTimeout": {
      const deal = await target(w, s.deal, (_, st) => st === "challenged" || st === "committed");
      if (deal) await attempt(() => claimMediationTimeout(f.stranger, { deal }));
      return;
    }
    case "advance":
      await advance(w, s.deal, s.choice);
      return;
    case "time":
      await f.increaseTime(s.seconds);
      return;
    case "mine":
      await f.mine(s.blocks);
      return;
  }
}

/** One legal move for an unfinished deal, chosen by `choice`. */
async function advance(w: World, i: number, choice: number): Promise<void> {
  const now = await states(w);
  const open = w.deals.filter((_, j) => unfinished.includes(now[j]));
  const deal = pick(open, i);
  if (!deal) return;
  const state = now[w.deals.indexOf(deal)];
  const group = w.groups.find((g) => g.includes(deal));
  const secondsTo = async (t: bigint) => Math.max(1, Number(t - (await f.deployer.publicClient.getBlock()).timestamp));
  current = `advance ${state}`;
  if (state === "open") {
    if (choice % 4 === 3) {
      await f.increaseTime(await secondsTo(deal.deadline + 1n));
      await attempt(() => claimTimeout(f.stranger, { deal }));
    } else {
      const resultDigest = choice % 4 === 2 ? keccak256(toHex(`wrong ${dealId(f.addresses, deal)}`)) : rightResult(deal);
      await attempt(() => commitResult(f.clientOf(deal.provider), { deal, resultDigest }));
    }
  } else if (state === "committed" && deal.policy === Policy.optimistic) {
    if (choice % 3 === 0) await attempt(() => challenge(f.clientOf(deal.jobCreator), { deal, reason: "advance" }));
    else {
      await f.increaseTime(Number(deal.policyParam));
      await attempt(() => finalize(f.stranger, { deal }));
    }
  } else if (state === "committed" && deal.policy === Policy.audit) {
    await f.mine(2);
    await attempt(() => finalize(f.stranger, { deal }));
  } else if (state === "committed" && group) {
    // The tally waits for the whole group: move a replica that is still open first.
    const pending = group.find((d) => now[w.deals.indexOf(d)] === "open");
    if (pending) await advance(w, w.deals.filter((_, j) => unfinished.includes(now[j])).indexOf(pending), choice);
    else await attempt(() => settleReplicas(f.stranger, { deals: group }));
  } else if (state === "challenged" && choice % 6 === 5) {
    await f.increaseTime(MEDIATION_TIMEOUT);
    await attempt(() => claimMediationTimeout(f.stranger, { deal }));
  } else if (state === "challenged" && choice % 6 === 4) {
    // Fix the draw, as a mediator does before it re-runs; then the turn moves with time only.
    await f.mine(2);
    await attempt(() => lockDraw(f.stranger, { deal }));
  } else if (state === "challenged") {
    const mediator = await drawnOrOther(group ?? deal, true, 0);
    if (group) {
      const correct = group.map((_, j) => ((choice >> j) & 1) === 1);
      await attempt(() => ruleReplicas(mediator, { deals: group, mediators: f.mediatorSet, correct, comparator: choice % 3 }));
    } else {
      await attempt(() => rule(mediator, { deal, mediators: f.mediatorSet, providerCorrect: choice % 2 === 0, comparator: choice % 3 }));
    }
  }
}

// ---- The invariants ----------------------------------------------------------------------

const unfinished: DealStateName[] = ["open", "committed", "challenged"];

async function states(w: World): Promise<DealStateName[]> {
  return Promise.all(w.deals.map((d) => dealState(f.deployer, { dealId: dealId(f.addresses, d) })));
}

async function assertConserved(w: World, step: string): Promise<void> {
  const [held, escrow, locked, dealStates] = await Promise.all([
    Promise.all([...holders, f.addresses.deals].map((account) => tokenBalance(f.deployer, { account }))),
    Promise.all(f.depositors.map((account) => escrowBalance(f.deployer, { account }))),
    totalLocked(f.deployer),
    states(w),
  ]);
  const sum = (xs: bigint[]) => xs.reduce((a, b) => a + b, 0n);
  const inContract = held.at(-1)!;
  assert.equal(sum(held), SUPPLY, `${step}: Σ token balances == supply`);
  assert.equal(inContract, sum(escrow) + locked, `${step}: balanceOf(deals) == Σ escrow + totalLocked`);
  const expectedLocked = sum(w.deals.map((d, i) => (unfinished.includes(dealStates[i]) ? d.price + reserveOf(d) + d.collateral : 0n)));
  assert.equal(locked, expectedLocked, `${step}: totalLocked == Σ unfinished deals' price + reserve + collateral`);
}

/** Past every deadline and timeout, bring every deal to a final state, then empty the contract. */
async function drainAndWithdraw(w: World): Promise<void> {
  for (let round = 0; round < 6; round++) {
    const now = await states(w);
    if (!now.some((s) => unfinished.includes(s))) break;
    await f.increaseTime(40 * 86_400);
    await f.mine(3);
    for (const [i, deal] of w.deals.entries()) {
      if (now[i] === "open") await attempt(() => claimTimeout(f.stranger, { deal }), "drain claimTimeout");
      if (now[i] === "committed" && deal.policy !== Policy.replicate) await attempt(() => finalize(f.stranger, { deal }), "drain finalize");
    }
    for (const deals of w.groups) if (deals.length) await attempt(() => settleReplicas(f.stranger, { deals }), "drain settleReplicas");
    await f.increaseTime(MEDIATION_TIMEOUT);
    for (const deal of w.deals) await attempt(() => claimMediationTimeout(f.stranger, { deal }), "drain claimMediationTimeout");
    await assertConserved(w, `drain round ${round}`);
  }
  const final = await states(w);
  for (const st of final) tally.set(`final ${st}`, (tally.get(`final ${st}`) ?? 0) + 1);
  assert.deepEqual(
    final.filter((s) => unfinished.includes(s)),
    [],
    "every deal reaches a final state",
  );
  assert.equal(await totalLocked(f.deployer), 0n, "nothing stays locked");
  for (const account of f.depositors) {
    const free = await escrowBalance(f.deployer, { account });
    if (free > 0n) await withdraw(f.clientOf(account), { amount: free });
  }
  assert.equal(await tokenBalance(f.deployer, { account: f.addresses.deals }), 0n, "every token can leave the contract");
}

describe("conservation of LILY", () => {
  test(`holds after every step of random sequences (${NUM_RUNS} runs), and nothing stays locked`, async (t) => {
    let steps = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 30, maxLength: 50 }), async (sequence) => {
        await rpc("evm_revert", [snapshot]);
        snapshot = (await rpc("evm_snapshot")) as Hex;
        const w: World = { deals: [], groups: [], opened: 0 };
        for (const [i, s] of sequence.entries()) {
          await apply(w, s);
          await assertConserved(w, `step ${i} (${s.kind})`);
          steps++;
        }
        await drainAndWithdraw(w);
      }),
      { numRuns: NUM_RUNS, endOnFailure: true },
    );
    assert.ok(steps > 0);
    t.diagnostic(
      `${steps} steps; ${[...tally]
        .sort()
        .map(([k, n]) => `${k}: ${n}`)
        .join(", ")}`,
    );
  });
});
