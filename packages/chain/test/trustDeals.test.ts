// LilyTrustDeals: trust deals opened and settled in batches with no storage per deal. Attacks
// first: a deal opened twice (again, or a twin with the same provider nonce), terms changed after
// opening, a skipped twin proven in its place, another provider's deals, a settle after the
// deadline, a timeout before it, a settle or timeout repeated. Every test checks the escrow to the
// wei, and the contract stays solvent (its tokens = free balances + locked).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { keccak256, parseEther, toHex, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { signRecord, trustDealOffers, type TrustDealMessage } from "@lily/protocol";
import {
  escrowBalance,
  findTrustDeal,
  fundAccount,
  lilyTrustDealsAbi,
  openTrustDeals,
  settleTrustDeals,
  timeOutTrustDeals,
  tokenBalance,
  totalLocked,
  trustBatch,
  trustDealDomain,
  trustDealId,
  trustDealState,
  trustLeaf,
  trustMultiProof,
  trustTermsOf,
  trustTreeRoot,
  withLilyErrors,
  writeContract,
  type Anvil,
  type LilyAddresses,
  type LilyClient,
  type TrustTerms,
} from "../src/index.ts";
import { rejectsWith, testKey } from "./fixture.ts";
import { deployWallet, WALLET_DEPOSIT } from "./wallet.ts";
import { startTrustChain } from "./trustChain.ts";

const PRICE = parseEther("1");
const COLLATERAL = parseEther("2");
const DEPOSIT = parseEther("100");
const ROYALTY_BPS = 500; // 5%
const ROYALTY = (PRICE * 500n) / 10_000n;

let anvil: Anvil;
let addresses: LilyAddresses;
let deployer: LilyClient;
let jobCreator: LilyClient;
let provider: LilyClient;
let provider2: LilyClient;
let stranger: LilyClient;
const moduleCreator = privateKeyToAccount(testKey("trust module creator")).address;
let parties: Address[];
const nonces = new Map<string, bigint>();

const addr = (c: LilyClient) => c.account!.address;
const escrow = () => addresses.trustDeals!;

before(async () => {
  const chain = await startTrustChain();
  ({ anvil, addresses, deployer } = chain);
  [jobCreator, provider, provider2, stranger] = chain.accounts;
  for (const party of [jobCreator, provider, provider2, stranger]) await chain.fundTrustEscrow(party, DEPOSIT);
  parties = [addr(jobCreator), addr(provider), addr(provider2), addr(stranger), moduleCreator];
});
after(() => anvil?.stop());

/** A trust deal signed by both parties; the provider's next nonce unless `terms.nonce` is given. */
async function newDeal(terms: Partial<TrustDealMessage> & { deadlineIn?: number } = {}) {
  const { deadlineIn = 3600, ...rest } = terms;
  const now = (await deployer.publicClient.getBlock()).timestamp;
  const p = (rest.provider ?? addr(provider)).toLowerCase();
  const nonce = rest.nonce ?? (nonces.get(p) ?? 0n) + 1n;
  nonces.set(p, nonce > (nonces.get(p) ?? 0n) ? nonce : nonces.get(p)!);
  const deal: TrustDealMessage = {
    jobCreator: addr(jobCreator),
    provider: addr(provider),
    offers: trustDealOffers(keccak256(toHex(`job offer ${p} ${nonce}`)), keccak256(toHex(`resource offer ${p}`))),
    price: PRICE,
    collateral: COLLATERAL,
    openBy: now + BigInt(deadlineIn) - 1n,
    deadline: now + BigInt(deadlineIn),
    nonce,
    moduleCreator,
    royaltyBps: ROYALTY_BPS,
    ...rest,
  };
  const sign = (c: LilyClient) => signRecord(c.account!, trustDealDomain(addresses), "TrustDeal", deal);
  const signer = [jobCreator, provider, provider2, stranger].find((c) => addr(c).toLowerCase() === deal.provider.toLowerCase())!;
  return { deal, jobCreatorSig: await sign(jobCreator), providerSig: await sign(signer) };
}

async function balances() {
  const out = new Map<string, bigint>();
  for (const account of parties) out.set(account, await escrowBalance(deployer, { account, escrow: escrow() }));
  out.set("totalLocked", await totalLocked(deployer, { escrow: escrow() }));
  return out;
}

async function assertMoved(before: Map<string, bigint>, expected: Record<string, bigint>) {
  const now = await balances();
  for (const [key, value] of now) assert.equal(value - before.get(key)!, expected[key] ?? 0n, `${key} moved by ${value - before.get(key)!}`);
  // Solvent: every token the contract holds is someone's free balance or locked in a deal.
  const held = await tokenBalance(deployer, { account: escrow() });
  let free = 0n;
  for (const account of parties) free += now.get(account)!;
  assert.equal(held, free + now.get("totalLocked")!);
}

/** Nonces in ascending order, to compare sets (calls report them in the proof's order). */
const sorted = (nonces: bigint[]) => [...nonces].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

const state = (deal: TrustDealMessage) => trustDealState(deployer, { provider: deal.provider, nonce: deal.nonce });
const terms = (s: { deal: TrustDealMessage }) => trustTermsOf(s.deal);

/** Send settleDeals with exactly these items and proof, bypassing the action's own checks (as an attacker would). */
const rawSettle = (from: LilyClient, batchNo: bigint, items: TrustTerms[], proof: Hex[], proofFlags: boolean[]) =>
  withLilyErrors(() =>
    writeContract(from, { address: escrow(), abi: lilyTrustDealsAbi, functionName: "settleDeals", args: [batchNo, items, proof, proofFlags] }),
  );

describe("LilyTrustDeals", () => {
  test("the TypeScript deal id, leaf and batch root are the contract's", async () => {
    const s = await newDeal();
    const read = <T>(functionName: string, args: unknown[]) =>
      deployer.publicClient.readContract({ address: escrow(), abi: lilyTrustDealsAbi, functionName, args } as never) as Promise<T>;
    assert.equal(await read<Hex>("hashDeal", [s.deal]), trustDealId(addresses, s.deal));
    assert.equal(await read<Hex>("leafOf", [s.deal.provider, terms(s)]), trustLeaf(s.deal.provider, terms(s)));
    const batch = [s, await newDeal(), await newDeal()];
    const r = await openTrustDeals(stranger, { deals: batch });
    assert.deepEqual(
      r.leaves,
      batch.map((b) => trustLeaf(b.deal.provider, terms(b))),
    );
    assert.equal(await read<Hex>("rootOf", [r.batchNo]), trustTreeRoot(r.leaves));
    const logged = await trustBatch(deployer, { batchNo: r.batchNo });
    assert.deepEqual([logged.batchNo, logged.leaves, logged.txHash, logged.blockHash], [r.batchNo, r.leaves, r.txHash, r.blockHash]);
  });

  test("a party that did not open a deal finds its batch and place by the deal's leaf; a deal never opened, or its skipped twin, is not found", async () => {
    const from = await deployer.publicClient.getBlockNumber();
    const [a, b] = [await newDeal(), await newDeal()];
    const twin = await newDeal({ nonce: b.deal.nonce, price: parseEther("9") });
    const never = await newDeal();
    const r = await openTrustDeals(stranger, { deals: [a, b, twin] });
    const found = await findTrustDeal(jobCreator, { provider: addr(provider), terms: terms(b), fromBlock: from });
    assert.deepEqual([found?.batchNo, found?.index, found?.txHash], [r.batchNo, 1, r.txHash]);
    assert.equal(await findTrustDeal(jobCreator, { provider: addr(provider), terms: terms(twin), fromBlock: from }), undefined);
    assert.equal(await findTrustDeal(jobCreator, { provider: addr(provider), terms: terms(never), fromBlock: from }), undefined);
    await settleTrustDeals(provider, { batchNo: r.batchNo, leaves: r.leaves, deals: [terms(a), terms(b)] });
  });

  test("anyone opens a batch; the provider settles it and is paid the price less royalty, with its collateral back", async () => {
    const batch = [await newDeal(), await newDeal(), await newDeal()];
    const before = await balances();
    const opened = await openTrustDeals(stranger, { deals: batch });
    assert.deepEqual(opened.skipped, []);
    for (const s of batch) assert.equal(await state(s.deal), "open");
    await assertMoved(before, { [addr(jobCreator)]: -3n * PRICE, [addr(provider)]: -3n * COLLATERAL, totalLocked: 3n * (PRICE + COLLATERAL) });
    const settled = await settleTrustDeals(provider, { batchNo: opened.batchNo, leaves: opened.leaves, deals: batch.map(terms) });
    assert.deepEqual(
      sorted(settled.settled),
      batch.map((s) => s.deal.nonce),
    );
    for (const s of batch) assert.equal(await state(s.deal), "settled");
    await assertMoved(before, { [addr(jobCreator)]: -3n * PRICE, [addr(provider)]: 3n * (PRICE - ROYALTY), [moduleCreator]: 3n * ROYALTY });
  });

  test("a provider that sends the batch needs no signature of its own, but cannot open another provider's deal without its signature", async () => {
    const own = [await newDeal(), await newDeal()];
    const foreign = await newDeal({ provider: addr(provider2) });
    const before = await balances();
    const r = await openTrustDeals(provider, { deals: [...own.map((s) => ({ ...s, providerSig: "0x" as Hex })), { ...foreign, providerSig: "0x" as Hex }] });
    assert.deepEqual(r.skipped, [{ index: 2, reason: "TrustInvalidSignature" }]);
    assert.equal(r.leaves[2], `0x${"0".repeat(64)}`);
    assert.equal(await state(foreign.deal), "none");
    await assertMoved(before, { [addr(jobCreator)]: -2n * PRICE, [addr(provider)]: -2n * COLLATERAL, totalLocked: 2n * (PRICE + COLLATERAL) });
    await settleTrustDeals(provider, { batchNo: r.batchNo, leaves: r.leaves, deals: own.map(terms) });
  });

  test("a deal opens once: in the same batch, in a later batch, or as a twin with the same provider nonce", async () => {
    const s = await newDeal();
    const twin = await newDeal({ nonce: s.deal.nonce, price: parseEther("50") });
    const before = await balances();
    const first = await openTrustDeals(stranger, { deals: [s, s, twin] });
    assert.deepEqual(first.skipped, [
      { index: 1, reason: "TrustNonceUsed" },
      { index: 2, reason: "TrustNonceUsed" },
    ]);
    const again = await openTrustDeals(stranger, { deals: [s, twin] });
    assert.deepEqual(
      again.skipped.map((x) => x.reason),
      ["TrustNonceUsed", "TrustNonceUsed"],
    );
    await assertMoved(before, { [addr(jobCreator)]: -PRICE, [addr(provider)]: -COLLATERAL, totalLocked: PRICE + COLLATERAL });
    await settleTrustDeals(provider, { batchNo: first.batchNo, leaves: first.leaves, deals: [terms(s)] });
  });

  test("a provider cannot be paid for terms other than those opened, nor for the skipped twin of an opened deal", async () => {
    const s = await newDeal();
    const twin = await newDeal({ nonce: s.deal.nonce, price: parseEther("50") });
    const r = await openTrustDeals(stranger, { deals: [s, twin] });
    assert.deepEqual(
      r.skipped.map((x) => x.index),
      [1],
    );
    const before = await balances();
    // The action refuses terms that are not a leaf of the batch before sending anything.
    await rejectsWith(settleTrustDeals(provider, { batchNo: r.batchNo, leaves: r.leaves, deals: [{ ...terms(s), price: parseEther("50") }] }), "INVALID_INPUT");
    // Sent anyway: the real deal's proof with a higher price, and the twin proven in a tree where
    // its leaf stands in for the zero leaf of its skipped item.
    const proof = trustMultiProof(r.leaves, [0]);
    await rejectsWith(
      rawSettle(provider, r.batchNo, [{ ...terms(s), price: parseEther("50") }], proof.proof, proof.proofFlags),
      "INVALID_INPUT",
      "TrustInvalidProof",
    );
    const forged = [r.leaves[0]!, trustLeaf(twin.deal.provider, terms(twin))];
    const twinProof = trustMultiProof(forged, [1]);
    await rejectsWith(rawSettle(provider, r.batchNo, [terms(twin)], twinProof.proof, twinProof.proofFlags), "INVALID_INPUT", "TrustInvalidProof");
    await assertMoved(before, {});
    assert.equal(await state(s.deal), "open");
    await settleTrustDeals(provider, { batchNo: r.batchNo, leaves: r.leaves, deals: [terms(s)] });
    await assertMoved(before, { [addr(provider)]: PRICE - ROYALTY + COLLATERAL, [moduleCreator]: ROYALTY, totalLocked: -(PRICE + COLLATERAL) });
  });

  test("only the deal's provider settles it; settling twice pays once", async () => {
    const batch = [await newDeal(), await newDeal()];
    const r = await openTrustDeals(stranger, { deals: batch });
    const before = await balances();
    const proof = trustMultiProof(r.leaves, [0, 1]);
    const ordered = proof.indices.map((i) => terms(batch[i]!));
    // Another provider with the real proof: each leaf names the caller as provider, so it fails.
    await rejectsWith(rawSettle(provider2, r.batchNo, ordered, proof.proof, proof.proofFlags), "INVALID_INPUT", "TrustInvalidProof");
    await rejectsWith(rawSettle(stranger, r.batchNo, ordered, proof.proof, proof.proofFlags), "INVALID_INPUT", "TrustInvalidProof");
    await assertMoved(before, {});
    await settleTrustDeals(provider, { batchNo: r.batchNo, leaves: r.leaves, deals: batch.map(terms) });
    const mid = await balances();
    const again = await settleTrustDeals(provider, { batchNo: r.batchNo, leaves: r.leaves, deals: batch.map(terms) });
    assert.deepEqual(again.settled, []);
    assert.deepEqual(
      again.skipped.map((x) => x.reason),
      ["TrustNotOpen", "TrustNotOpen"],
    );
    await assertMoved(mid, {});
  });

  test("a deal past its deadline cannot be settled; anyone times it out once, giving the job creator the price and the collateral", async () => {
    const late = await newDeal({ deadlineIn: 60 });
    const r = await openTrustDeals(stranger, { deals: [late] });
    const before = await balances();
    const early = await timeOutTrustDeals(stranger, { batchNo: r.batchNo, leaves: r.leaves, provider: addr(provider), deals: [terms(late)] });
    assert.deepEqual(early.skipped, [{ index: 0, reason: "TrustDeadlineNotPassed" }]);
    await deployer.publicClient.request({ method: "evm_increaseTime", params: [toHex(61)] } as never);
    await deployer.publicClient.request({ method: "evm_mine", params: [] } as never);
    const settle = await settleTrustDeals(provider, { batchNo: r.batchNo, leaves: r.leaves, deals: [terms(late)] });
    assert.deepEqual(settle.skipped, [{ index: 0, reason: "TrustDeadlinePassed" }]);
    await assertMoved(before, {});
    const out = await timeOutTrustDeals(stranger, { batchNo: r.batchNo, leaves: r.leaves, provider: addr(provider), deals: [terms(late)] });
    assert.deepEqual(out.timedOut, [late.deal.nonce]);
    assert.equal(await state(late.deal), "timedOut");
    await assertMoved(before, { [addr(jobCreator)]: PRICE + COLLATERAL, totalLocked: -(PRICE + COLLATERAL) });
    const twice = await timeOutTrustDeals(stranger, { batchNo: r.batchNo, leaves: r.leaves, provider: addr(provider), deals: [terms(late)] });
    assert.deepEqual(twice.skipped, [{ index: 0, reason: "TrustNotOpen" }]);
    const thenSettle = await settleTrustDeals(provider, { batchNo: r.batchNo, leaves: r.leaves, deals: [terms(late)] });
    assert.deepEqual(thenSettle.skipped, [{ index: 0, reason: "TrustNotOpen" }]);
    await assertMoved(before, { [addr(jobCreator)]: PRICE + COLLATERAL, totalLocked: -(PRICE + COLLATERAL) });
  });

  test("items the clock, a signature or the escrow rule out are skipped, and nothing is locked for them", async () => {
    const good = await newDeal();
    const lapsed = await newDeal({ openBy: (await deployer.publicClient.getBlock()).timestamp - 1n });
    const forged = { ...(await newDeal()), jobCreatorSig: (await newDeal()).jobCreatorSig };
    const tooDear = await newDeal({ collateral: DEPOSIT * 10n });
    const before = await balances();
    const r = await openTrustDeals(stranger, { deals: [lapsed, good, forged, tooDear] });
    assert.deepEqual(r.skipped, [
      { index: 0, reason: "TrustOpenByPassed" },
      { index: 2, reason: "TrustInvalidSignature" },
      { index: 3, reason: "EscrowInsufficientBalance" },
    ]);
    // tooDear's price was not taken although the job creator could pay it: both locks or neither.
    await assertMoved(before, { [addr(jobCreator)]: -PRICE, [addr(provider)]: -COLLATERAL, totalLocked: PRICE + COLLATERAL });
    await settleTrustDeals(provider, { batchNo: r.batchNo, leaves: r.leaves, deals: [terms(good)] });
  });

  test("terms invalid in themselves revert the whole batch, and nothing changes", async () => {
    const good = await newDeal();
    const royalty = await newDeal({ royaltyBps: 10_001 });
    const noCreator = await newDeal({ moduleCreator: "0x0000000000000000000000000000000000000000" });
    const deadline = await newDeal({ openBy: good.deal.deadline });
    const before = await balances();
    await rejectsWith(openTrustDeals(stranger, { deals: [good, royalty] }), "INVALID_INPUT", "TrustInvalidRoyalty");
    await rejectsWith(openTrustDeals(stranger, { deals: [good, noCreator] }), "INVALID_INPUT", "TrustInvalidRoyalty");
    await rejectsWith(openTrustDeals(stranger, { deals: [deadline, good] }), "INVALID_INPUT", "TrustDeadlineNotAfterOpenBy");
    await assertMoved(before, {});
    assert.equal(await state(good.deal), "none");
    await rejectsWith(
      settleTrustDeals(provider, { batchNo: 10_000n, leaves: [trustLeaf(addr(provider), terms(good))], deals: [terms(good)] }),
      "INVALID_INPUT",
      "TrustUnknownBatch",
    );
  });

  test("any subset of a batch settles with a multiproof, in any number of calls", async () => {
    const batch: Awaited<ReturnType<typeof newDeal>>[] = [];
    for (let i = 0; i < 13; i++) batch.push(await newDeal());
    const r = await openTrustDeals(provider, { deals: batch.map((s) => ({ ...s, providerSig: "0x" as Hex })) });
    const before = await balances();
    for (const subset of [[12, 0, 5], [1, 2, 3, 4], [11], [6, 7, 8, 9, 10]]) {
      const s = await settleTrustDeals(provider, { batchNo: r.batchNo, leaves: r.leaves, deals: subset.map((i) => terms(batch[i]!)) });
      assert.deepEqual(sorted(s.settled), sorted(subset.map((i) => batch[i]!.deal.nonce)));
    }
    for (const s of batch) assert.equal(await state(s.deal), "settled");
    await assertMoved(before, {
      [addr(provider)]: 13n * (PRICE - ROYALTY + COLLATERAL),
      [moduleCreator]: 13n * ROYALTY,
      totalLocked: -13n * (PRICE + COLLATERAL),
    });
  });

  test("a contract wallet can be the job creator: its owner's signature opens the deal through ERC-1271, anyone else's does not", async () => {
    const owner = privateKeyToAccount(testKey("trust wallet owner"));
    await fundAccount(deployer, { to: owner.address, eth: parseEther("1") });
    const wallet = await deployWallet({ anvil, addresses, deployer, depositors: [] }, owner, escrow());
    parties.push(wallet);
    const bySigner = async (signer: typeof owner) => {
      const s = await newDeal({ jobCreator: wallet });
      return { ...s, jobCreatorSig: await signRecord(signer, trustDealDomain(addresses), "TrustDeal", s.deal) };
    };
    const good = await bySigner(owner);
    const bad = await bySigner(privateKeyToAccount(testKey("not the wallet owner")));
    const before = await balances();
    const r = await openTrustDeals(stranger, { deals: [good, bad] });
    assert.deepEqual(r.skipped, [{ index: 1, reason: "TrustInvalidSignature" }]);
    await assertMoved(before, { [wallet]: -PRICE, [addr(provider)]: -COLLATERAL, totalLocked: PRICE + COLLATERAL });
    assert.ok(WALLET_DEPOSIT >= PRICE);
    await settleTrustDeals(provider, { batchNo: r.batchNo, leaves: r.leaves, deals: [terms(good)] });
  });

  test("one account may be both parties: both locks come from its balance, all or nothing", async () => {
    const self = await newDeal({ jobCreator: addr(provider2), provider: addr(provider2) });
    const signed = { ...self, jobCreatorSig: "0x" as Hex, providerSig: "0x" as Hex };
    const before = await balances();
    const r = await openTrustDeals(provider2, { deals: [signed] });
    await assertMoved(before, { [addr(provider2)]: -(PRICE + COLLATERAL), totalLocked: PRICE + COLLATERAL });
    await settleTrustDeals(provider2, { batchNo: r.batchNo, leaves: r.leaves, deals: [terms(self)] });
    await assertMoved(before, { [addr(provider2)]: -ROYALTY, [moduleCreator]: ROYALTY });
  });
});
