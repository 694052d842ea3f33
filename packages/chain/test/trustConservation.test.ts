// Property: whatever anyone sends to LilyTrustDeals, in any order, every balance moves exactly as a
// plain model of the rules says, and no token is created, lost or frozen. fast-check drives random
// sequences of batches (deals between two job creators and two providers, with reused nonces, bad
// signatures and balances too small mixed in), settlements and timeouts of random subsets by random
// senders (the right provider, the other one, a stranger), and moves of the clock, against the real
// contract on a real anvil. After every step the chain must equal the model: each deal's state, every
// free balance, totalLocked, and token.balanceOf(contract) == Σ free balances + totalLocked. At the end
// of each run the clock passes every deadline, every open deal is timed out, and nothing stays locked.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { keccak256, parseEther, toHex, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { isLilyError, signRecord, trustDealOffers, type TrustDealMessage } from "@lily/protocol";
import {
  escrowBalance,
  fundAccount,
  openTrustDeals,
  settleTrustDeals,
  timeOutTrustDeals,
  tokenBalance,
  totalLocked,
  trustDealDomain,
  trustDealState,
  trustTermsOf,
  type Anvil,
  type LilyAddresses,
  type LilyClient,
  type TrustStateName,
} from "../src/index.ts";
import { testKey } from "./fixture.ts";
import { startTrustChain } from "./trustChain.ts";

const NUM_RUNS = Number(process.env.CONSERVATION_RUNS ?? 10);
const DEPOSIT = parseEther("20");
const ROYALTY_BPS = 1000;

let anvil: Anvil;
let addresses: LilyAddresses;
let deployer: LilyClient;
let jobCreators: LilyClient[];
let providers: LilyClient[];
let stranger: LilyClient;
const moduleCreator = privateKeyToAccount(testKey("trust conservation module creator")).address;
let accounts: Address[];
let snapshot: Hex;
const rpc = (method: string, params: unknown[] = []) => deployer.publicClient.request({ method, params } as never) as Promise<unknown>;
const addr = (c: LilyClient) => c.account!.address;

before(async () => {
  const chain = await startTrustChain();
  ({ anvil, addresses, deployer } = chain);
  const [jc1, jc2, p1, p2] = chain.accounts;
  [jobCreators, providers] = [
    [jc1, jc2],
    [p1, p2],
  ];
  stranger = chain.clientFor(testKey("trust conservation stranger"));
  await fundAccount(deployer, { to: addr(stranger), eth: parseEther("10") });
  for (const party of [...jobCreators, ...providers]) await chain.fundTrustEscrow(party, DEPOSIT);
  accounts = [...jobCreators, ...providers].map(addr).concat(moduleCreator);
  snapshot = (await rpc("evm_snapshot")) as Hex;
});
after(() => anvil?.stop());

// ---- The model -----------------------------------------------------------------------------

interface ModelDeal {
  deal: TrustDealMessage;
  state: TrustStateName;
}

interface Model {
  free: Map<string, bigint>;
  locked: bigint;
  /** By provider and nonce: the deal that opened there. */
  deals: Map<string, ModelDeal>;
  /** Batches that opened something: their leaves, and which deals opened in them. */
  batches: { batchNo: bigint; leaves: Hex[]; opened: ModelDeal[] }[];
  nonces: Map<string, bigint>;
}

const key = (provider: Address, nonce: bigint) => `${provider.toLowerCase()}/${nonce}`;
const now = async () => (await deployer.publicClient.getBlock()).timestamp;

// ---- Steps ---------------------------------------------------------------------------------

const item = fc.record({
  jobCreator: fc.nat(1),
  provider: fc.nat(1),
  price: fc.constantFrom(1n, 2n, 7n),
  collateral: fc.constantFrom(1n, 3n),
  // Rarer than not, so most items open and the later steps have deals to work on.
  reuseNonce: fc.nat(4).map((n) => n === 0),
  badSig: fc.nat(5).map((n) => n === 0),
  deadlineIn: fc.integer({ min: 30, max: 400 }),
});
type Item = typeof item extends fc.Arbitrary<infer T> ? T : never;

const pick = fc.array(
  fc.nat(3).map((n) => n !== 0),
  { minLength: 6, maxLength: 6 },
);
const step = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("open" as const), items: fc.array(item, { minLength: 1, maxLength: 6 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("settle" as const), batch: fc.nat(), pick, sender: fc.constantFrom(0, 0, 1, 1, 2) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("timeOut" as const), batch: fc.nat(), pick }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("wait" as const), seconds: fc.integer({ min: 1, max: 100 }) }) },
);
type Step = typeof step extends fc.Arbitrary<infer T> ? T : never;

async function open(m: Model, items: Item[]) {
  const t = await now();
  const signed = [];
  for (const it of items) {
    const jc = jobCreators[it.jobCreator]!;
    const provider = providers[it.provider]!;
    const last = m.nonces.get(addr(provider)) ?? 0n;
    const nonce = it.reuseNonce && last > 0n ? last : last + 1n;
    m.nonces.set(addr(provider), nonce > last ? nonce : last);
    const deal: TrustDealMessage = {
      jobCreator: addr(jc),
      provider: addr(provider),
      offers: trustDealOffers(keccak256(toHex(`job ${signed.length} ${t}`)), keccak256(toHex(`resource ${nonce}`))),
      price: parseEther(String(it.price)),
      collateral: parseEther(String(it.collateral)),
      openBy: t + BigInt(it.deadlineIn) - 1n,
      deadline: t + BigInt(it.deadlineIn),
      nonce,
      moduleCreator,
      royaltyBps: ROYALTY_BPS,
    };
    const sign = (c: LilyClient) => signRecord(c.account!, trustDealDomain(addresses), "TrustDeal", deal);
    signed.push({ deal, jobCreatorSig: await sign(it.badSig ? stranger : jc), providerSig: await sign(provider) });
  }
  const r = await openTrustDeals(stranger, { deals: signed });
  // The model's verdict on each item, in order.
  const opened: ModelDeal[] = [];
  const skipped: number[] = [];
  signed.forEach((s, i) => {
    const { deal } = s;
    const k = key(deal.provider, deal.nonce);
    const jcFree = m.free.get(deal.jobCreator)!;
    const pFree = m.free.get(deal.provider)!;
    if (m.deals.has(k) || items[i]!.badSig || jcFree < deal.price || pFree < deal.collateral) {
      skipped.push(i);
      return;
    }
    m.free.set(deal.jobCreator, jcFree - deal.price);
    m.free.set(deal.provider, pFree - deal.collateral);
    m.locked += deal.price + deal.collateral;
    const d: ModelDeal = { deal, state: "open" };
    m.deals.set(k, d);
    opened.push(d);
  });
  assert.deepEqual(
    r.skipped.map((s) => s.index),
    skipped,
  );
  if (opened.length > 0) m.batches.push({ batchNo: r.batchNo, leaves: r.leaves, opened });
}

async function settle(m: Model, s: Extract<Step, { kind: "settle" }>) {
  const batch = m.batches[s.batch % Math.max(1, m.batches.length)];
  if (!batch) return;
  const sender = [...providers, stranger][s.sender]!;
  const mine = batch.opened.filter((d, i) => s.pick[i % 6] && d.deal.provider.toLowerCase() === addr(sender).toLowerCase());
  const others = batch.opened.filter((d, i) => s.pick[i % 6] && d.deal.provider.toLowerCase() !== addr(sender).toLowerCase());
  if (others.length > 0) {
    // Another party's deals: the action refuses them before sending (not leaves of the sender's).
    await assert.rejects(
      settleTrustDeals(sender, { batchNo: batch.batchNo, leaves: batch.leaves, deals: others.map((d) => trustTermsOf(d.deal)) }),
      (e) => isLilyError(e) && e.code === "INVALID_INPUT",
    );
  }
  if (mine.length === 0) return;
  const t = await now();
  const r = await settleTrustDeals(sender, { batchNo: batch.batchNo, leaves: batch.leaves, deals: mine.map((d) => trustTermsOf(d.deal)) });
  // The chain's clock at inclusion is the next block's: at least t + 1.
  const block = (await deployer.publicClient.getBlock({ blockNumber: r.blockNumber })).timestamp;
  assert.ok(block >= t);
  const expected = mine.filter((d) => d.state === "open" && block <= d.deal.deadline);
  for (const d of expected) {
    const royalty = (d.deal.price * BigInt(ROYALTY_BPS)) / 10_000n;
    m.free.set(d.deal.provider, m.free.get(d.deal.provider)! + d.deal.price - royalty + d.deal.collateral);
    m.free.set(moduleCreator, m.free.get(moduleCreator)! + royalty);
    m.locked -= d.deal.price + d.deal.collateral;
    d.state = "settled";
  }
  assert.deepEqual([...r.settled].sort(), expected.map((d) => d.deal.nonce).sort());
}

async function timeOut(m: Model, s: Extract<Step, { kind: "timeOut" }>) {
  const batch = m.batches[s.batch % Math.max(1, m.batches.length)];
  if (!batch) return;
  for (const provider of providers) {
    const picked = batch.opened.filter((d, i) => s.pick[i % 6] && d.deal.provider.toLowerCase() === addr(provider).toLowerCase());
    if (picked.length === 0) continue;
    const r = await timeOutTrustDeals(stranger, {
      batchNo: batch.batchNo,
      leaves: batch.leaves,
      provider: addr(provider),
      deals: picked.map((d) => trustTermsOf(d.deal)),
    });
    const block = (await deployer.publicClient.getBlock({ blockNumber: r.blockNumber })).timestamp;
    const expected = picked.filter((d) => d.state === "open" && block > d.deal.deadline);
    for (const d of expected) {
      m.free.set(d.deal.jobCreator, m.free.get(d.deal.jobCreator)! + d.deal.price + d.deal.collateral);
      m.locked -= d.deal.price + d.deal.collateral;
      d.state = "timedOut";
    }
    assert.deepEqual([...r.timedOut].sort(), expected.map((d) => d.deal.nonce).sort());
  }
}

async function assertMatches(m: Model) {
  const escrow = addresses.trustDeals!;
  let free = 0n;
  for (const account of accounts) {
    const onChain = await escrowBalance(deployer, { account, escrow });
    assert.equal(onChain, m.free.get(account), `free balance of ${account}`);
    free += onChain;
  }
  const locked = await totalLocked(deployer, { escrow });
  assert.equal(locked, m.locked, "totalLocked");
  assert.equal(await tokenBalance(deployer, { account: escrow }), free + locked, "solvent");
  for (const d of m.deals.values()) assert.equal(await trustDealState(deployer, { provider: d.deal.provider, nonce: d.deal.nonce }), d.state);
}

describe("LilyTrustDeals conservation", () => {
  test("random batches, settlements, timeouts and clock moves: the chain equals the model after every step, and everything unlocks in the end", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 4, maxLength: 12 }), async (steps) => {
        await rpc("evm_revert", [snapshot]);
        snapshot = (await rpc("evm_snapshot")) as Hex;
        const m: Model = { free: new Map(), locked: 0n, deals: new Map(), batches: [], nonces: new Map() };
        for (const account of accounts) m.free.set(account, await escrowBalance(deployer, { account, escrow: addresses.trustDeals! }));
        for (const s of steps) {
          if (s.kind === "open") await open(m, s.items);
          else if (s.kind === "settle") await settle(m, s);
          else if (s.kind === "timeOut") await timeOut(m, s);
          else {
            await rpc("evm_increaseTime", [toHex(s.seconds)]);
            await rpc("evm_mine");
          }
          await assertMatches(m);
        }
        // The end: past every deadline, a stranger times out whatever is still open; nothing stays locked.
        await rpc("evm_increaseTime", [toHex(500)]);
        await rpc("evm_mine");
        for (let b = 0; b < m.batches.length; b++) await timeOut(m, { kind: "timeOut", batch: b, pick: [true, true, true, true, true, true] });
        await assertMatches(m);
        assert.equal(m.locked, 0n);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
