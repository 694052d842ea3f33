// Batches: openDeals, commitResults and finalizeDeals. Each item is checked as its single-deal
// function checks it; an item the chain's state, its clock or a signature rules out is skipped
// with DealSkipped and the others go ahead; an item whose signed terms are invalid reverts the
// whole batch (caught by gas estimation, nothing sent). Attacks first: a duplicate item, an item
// signed by someone else, a deal on someone else's escrow, a settle before the window, a batch
// mixing good and bad items, a wallet that burns gas. Every test checks escrow to the wei.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { keccak256, parseEther, toHex, type Abi, type Address, type Hex } from "viem";
import { commitResult, commitResults, dealId, dealState, finalizeDeals, lilyDealsAbi, openDeals, withdraw, withLilyErrors, MAX_BATCH } from "../src/index.ts";
import { compileSolidity } from "../scripts/solc.ts";
import { rejectsWith, startFixture, type Fixture, type SignedDeal } from "./fixture.ts";

let f: Fixture;
before(async () => (f = await startFixture()));
after(() => f.stop());

const digest = keccak256(toHex("the result record"));
const addr = (c: { account?: { address: Address } }) => c.account!.address;
const PRICE = parseEther("1");
const COLLATERAL = parseEther("2");
const cheap = { price: PRICE, collateral: COLLATERAL };
const stateOf = (s: SignedDeal) => dealState(f.deployer, { dealId: dealId(f.addresses, s.deal) });

describe("openDeals", () => {
  test("opens every deal of a batch, locking exactly each deal's price and collateral once", async () => {
    const batch = await Promise.all([1, 2, 3].map(() => f.newDeal(cheap)));
    const before = await f.balances();
    const r = await openDeals(f.stranger, { deals: batch });
    assert.deepEqual(
      r.opened,
      batch.map((s) => dealId(f.addresses, s.deal)),
    );
    assert.deepEqual(r.skipped, []);
    for (const s of batch) assert.equal(await stateOf(s), "open");
    await f.assertMoved(before, { [addr(f.jobCreator)]: -3n * PRICE, [addr(f.provider)]: -3n * COLLATERAL, totalLocked: 3n * (PRICE + COLLATERAL) });
  });

  test("the same deal twice in one batch opens once; the second is skipped as already opened", async () => {
    const s = await f.newDeal(cheap);
    const before = await f.balances();
    const r = await openDeals(f.stranger, { deals: [s, s] });
    assert.equal(r.opened.length, 1);
    assert.deepEqual(r.skipped, [{ index: 1, dealId: dealId(f.addresses, s.deal), reason: "DealsAlreadyOpened" }]);
    await f.assertMoved(before, { [addr(f.jobCreator)]: -PRICE, [addr(f.provider)]: -COLLATERAL, totalLocked: PRICE + COLLATERAL });
  });

  test("a deal opened before, alone or in another batch, is skipped by a later batch", async () => {
    const [a, b] = [await f.newDeal(cheap), await f.newDeal(cheap)];
    await f.open(a);
    await openDeals(f.stranger, { deals: [b] });
    const before = await f.balances();
    const r = await openDeals(f.stranger, { deals: [a, b] });
    assert.deepEqual(r.opened, []);
    assert.deepEqual(
      r.skipped.map((s) => s.reason),
      ["DealsAlreadyOpened", "DealsAlreadyOpened"],
    );
    await f.assertMoved(before, {});
  });

  test("an item signed by someone else is skipped; the rest of the batch opens", async () => {
    const good = await f.newDeal(cheap);
    const forged = await f.newDeal(cheap);
    forged.providerSig = await f.sign(f.stranger, forged.deal); // not the provider's key
    const forgedJc = await f.newDeal(cheap);
    forgedJc.jobCreatorSig = await f.sign(f.provider, forgedJc.deal);
    const before = await f.balances();
    const r = await openDeals(f.stranger, { deals: [forged, good, forgedJc] });
    assert.deepEqual(r.opened, [dealId(f.addresses, good.deal)]);
    assert.deepEqual(
      r.skipped.map((s) => [s.index, s.reason]),
      [
        [0, "DealsInvalidSignature"],
        [2, "DealsInvalidSignature"],
      ],
    );
    assert.equal(await stateOf(forged), "none");
    await f.assertMoved(before, { [addr(f.jobCreator)]: -PRICE, [addr(f.provider)]: -COLLATERAL, totalLocked: PRICE + COLLATERAL });
  });

  test("a deal that spends someone else's escrow (signed by the submitter, not by its job creator) locks nothing of theirs", async () => {
    // The provider names the stranger as job creator, signs both sides itself and submits.
    const s = await f.newDeal({ ...cheap, jobCreator: addr(f.stranger) });
    s.jobCreatorSig = await f.sign(f.provider, s.deal);
    const before = await f.balances();
    const r = await openDeals(f.provider, { deals: [s] });
    assert.deepEqual(
      r.skipped.map((x) => x.reason),
      ["DealsInvalidSignature"],
    );
    await f.assertMoved(before, {});
  });

  test("the submitting party needs no signature of its own, but nobody else can use that", async () => {
    const s = await f.newDeal(cheap);
    const byProvider = { ...s, providerSig: "0x" as Hex };
    // A stranger cannot submit the deal without the provider's signature...
    let r = await openDeals(f.stranger, { deals: [byProvider] });
    assert.deepEqual(
      r.skipped.map((x) => x.reason),
      ["DealsInvalidSignature"],
    );
    // ...and the job creator submitting covers only the job creator's side.
    r = await openDeals(f.jobCreator, { deals: [{ ...byProvider, jobCreatorSig: "0x" }] });
    assert.deepEqual(
      r.skipped.map((x) => x.reason),
      ["DealsInvalidSignature"],
    );
    // The provider itself may: its transaction is its consent.
    const before = await f.balances();
    r = await openDeals(f.provider, { deals: [byProvider] });
    assert.deepEqual(r.opened, [dealId(f.addresses, s.deal)]);
    await f.assertMoved(before, { [addr(f.jobCreator)]: -PRICE, [addr(f.provider)]: -COLLATERAL, totalLocked: PRICE + COLLATERAL });
  });

  test("a deal whose openBy has passed is skipped, the others open", async () => {
    const late = await f.newDeal({ ...cheap, deadlineIn: 30 });
    const good = await f.newDeal({ ...cheap, deadlineIn: 3600 });
    await f.increaseTime(60);
    const before = await f.balances();
    const r = await openDeals(f.stranger, { deals: [late, good] });
    assert.deepEqual(
      r.skipped.map((x) => [x.index, x.reason]),
      [[0, "DealsOpenByPassed"]],
    );
    await f.assertMoved(before, { [addr(f.jobCreator)]: -PRICE, [addr(f.provider)]: -COLLATERAL, totalLocked: PRICE + COLLATERAL });
  });

  test("an item its party's escrow cannot cover is skipped: a party emptying its escrow cannot revert the batch", async () => {
    // The stranger signs as job creator, then withdraws everything before the batch lands.
    const theirs = await f.newDeal({ ...cheap, jobCreator: addr(f.stranger) });
    theirs.jobCreatorSig = await f.sign(f.stranger, theirs.deal);
    const good = await f.newDeal(cheap);
    const free = await f.deployer.publicClient.readContract({
      address: f.addresses.deals,
      abi: lilyDealsAbi,
      functionName: "balanceOf",
      args: [addr(f.stranger)],
    });
    await withdraw(f.stranger, { amount: free });
    const before = await f.balances();
    const r = await openDeals(f.jobCreator, { deals: [theirs, good] });
    assert.deepEqual(
      r.skipped.map((x) => [x.index, x.reason]),
      [[0, "EscrowInsufficientBalance"]],
    );
    assert.equal(await stateOf(theirs), "none");
    await f.assertMoved(before, { [addr(f.jobCreator)]: -PRICE, [addr(f.provider)]: -COLLATERAL, totalLocked: PRICE + COLLATERAL });
  });

  test("an item whose signed terms are invalid fails the whole batch before anything is sent", async () => {
    const good = await f.newDeal(cheap);
    const bad = await f.newDeal({ ...cheap, royaltyBps: 10_001, moduleCreator: addr(f.moduleCreator) });
    const before = await f.balances();
    const block = await f.blockNumber();
    await rejectsWith(openDeals(f.stranger, { deals: [good, bad] }), "INVALID_INPUT", "DealsInvalidRoyalty");
    assert.equal(await f.blockNumber(), block, "no transaction was mined");
    assert.equal(await stateOf(good), "none");
    await f.assertMoved(before, {});
  });

  test("an empty batch, one above MAX_BATCH, or signatures that do not line up are refused", async () => {
    await rejectsWith(openDeals(f.stranger, { deals: [] }), "INVALID_INPUT");
    const s = await f.newDeal(cheap);
    await rejectsWith(openDeals(f.stranger, { deals: Array(MAX_BATCH + 1).fill(s) }), "INVALID_INPUT");
    const simulate = (jobCreatorSigs: Hex[]) =>
      withLilyErrors(() =>
        f.stranger.publicClient.simulateContract({
          address: f.addresses.deals,
          abi: lilyDealsAbi,
          functionName: "openDeals",
          args: [[s.deal], jobCreatorSigs, [s.providerSig]],
          account: addr(f.stranger),
        }),
      );
    await rejectsWith(simulate([]), "INVALID_INPUT", "DealsBatchLengthMismatch");
    await rejectsWith(simulate([s.jobCreatorSig, s.jobCreatorSig]), "INVALID_INPUT", "DealsBatchLengthMismatch");
    assert.equal(await stateOf(s), "none");
  });

  test("a contract wallet that burns gas in its signature check is skipped, and costs the batch at most the cap", async () => {
    const path = "contracts/test/GasBurnerWallet.sol";
    const source = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;
contract GasBurnerWallet {
    function isValidSignature(bytes32, bytes calldata) external view returns (bytes4) {
        uint256 x;
        while (gasleft() > 1000) x = uint256(keccak256(abi.encode(x)));
        return bytes4(uint32(x));
    }
}`;
    const { abi, bytecode } = compileSolidity({ [path]: source }).contracts.GasBurnerWallet;
    const deployed = await f.deployer.publicClient.waitForTransactionReceipt({
      hash: await f.deployer.walletClient!.deployContract({ abi: abi as Abi, bytecode }),
    });
    const burner = deployed.contractAddress!;
    const evil = await f.newDeal({ ...cheap, jobCreator: burner });
    const good = await f.newDeal(cheap);
    const before = await f.balances();
    const r = await openDeals(f.stranger, { deals: [evil, good] });
    assert.deepEqual(
      r.skipped.map((x) => [x.index, x.reason]),
      [[0, "DealsInvalidSignature"]],
    );
    assert.equal(r.opened.length, 1);
    const cap = await f.deployer.publicClient.readContract({ address: f.addresses.deals, abi: lilyDealsAbi, functionName: "BATCH_ERC1271_GAS" });
    assert.ok(r.gasUsed < cap + 150_000n, `the batch used ${r.gasUsed} gas`);
    await f.assertMoved(before, { [addr(f.jobCreator)]: -PRICE, [addr(f.provider)]: -COLLATERAL, totalLocked: PRICE + COLLATERAL });
  });
});

describe("commitResults", () => {
  test("settles a batch of trust deals, paying each provider once, and skips a repeat of any of them", async () => {
    const batch = await Promise.all([1, 2, 3].map(() => f.newDeal(cheap)));
    await openDeals(f.stranger, { deals: batch });
    const before = await f.balances();
    const results = batch.map((s) => ({ deal: s.deal, resultDigest: digest }));
    const r = await commitResults(f.provider, { results: [...results, results[0]!] });
    assert.equal(r.settled.length, 3);
    assert.deepEqual(
      r.skipped.map((x) => [x.index, x.reason]),
      [[3, "DealsNotOpen"]],
    );
    await f.assertMoved(before, { [addr(f.provider)]: 3n * (PRICE + COLLATERAL), totalLocked: -3n * (PRICE + COLLATERAL) });
    // Across batches and the single path: nothing more is paid.
    const again = await commitResults(f.provider, { results });
    assert.deepEqual(again.committed, []);
    await rejectsWith(commitResult(f.provider, { deal: batch[0]!.deal, resultDigest: digest }), "CHAIN_REVERT", "DealsNotOpen");
    await f.assertMoved(before, { [addr(f.provider)]: 3n * (PRICE + COLLATERAL), totalLocked: -3n * (PRICE + COLLATERAL) });
  });

  test("only the deal's provider commits: a stranger's batch, or another provider's items, are skipped", async () => {
    const mine = await f.newDeal(cheap);
    const other = await f.newDeal({ ...cheap, provider: addr(f.providers[1]!) });
    other.providerSig = await f.sign(f.providers[1]!, other.deal);
    await openDeals(f.stranger, { deals: [mine, other] });
    const before = await f.balances();
    const byStranger = await commitResults(f.stranger, { results: [{ deal: mine.deal, resultDigest: digest }] });
    assert.deepEqual(
      byStranger.skipped.map((x) => x.reason),
      ["DealsNotProvider"],
    );
    await f.assertMoved(before, {});
    const r = await commitResults(f.provider, { results: [other, mine].map((s) => ({ deal: s.deal, resultDigest: digest })) });
    assert.deepEqual(
      r.skipped.map((x) => [x.index, x.reason]),
      [[0, "DealsNotProvider"]],
    );
    assert.equal(await stateOf(other), "open");
    await f.assertMoved(before, { [addr(f.provider)]: PRICE + COLLATERAL, totalLocked: -(PRICE + COLLATERAL) });
  });

  test("a result after its deadline is skipped; the deal can still only time out", async () => {
    const late = await f.newDeal({ ...cheap, deadlineIn: 20 });
    const good = await f.newDeal({ ...cheap, deadlineIn: 3600 });
    await openDeals(f.stranger, { deals: [late, good] });
    await f.increaseTime(30);
    const before = await f.balances();
    const r = await commitResults(f.provider, { results: [late, good].map((s) => ({ deal: s.deal, resultDigest: digest })) });
    assert.deepEqual(
      r.skipped.map((x) => [x.index, x.reason]),
      [[0, "DealsDeadlinePassed"]],
    );
    assert.equal(await stateOf(late), "open");
    await f.assertMoved(before, { [addr(f.provider)]: PRICE + COLLATERAL, totalLocked: -(PRICE + COLLATERAL) });
  });
});

describe("finalizeDeals", () => {
  const WINDOW = 120n;

  test("skips deals whose challenge window is still open, settles them once it closes, and never twice", async () => {
    const terms = f.policyTerms("optimistic", WINDOW, { ...cheap, royaltyBps: 0 });
    const batch = [await f.newDeal(terms), await f.newDeal(terms)];
    await openDeals(f.stranger, { deals: batch });
    await commitResults(f.provider, { results: batch.map((s) => ({ deal: s.deal, resultDigest: digest })) });
    const deals = batch.map((s) => s.deal);
    const before = await f.balances();
    const early = await finalizeDeals(f.stranger, { deals });
    assert.deepEqual(
      early.skipped.map((x) => x.reason),
      ["DealsChallengeWindowOpen", "DealsChallengeWindowOpen"],
    );
    await f.assertMoved(before, {});

    await f.increaseTime(Number(WINDOW));
    const fee = terms.mediationFee!;
    const r = await finalizeDeals(f.stranger, { deals: [...deals, deals[0]!] });
    assert.equal(r.settled.length, 2);
    assert.deepEqual(
      r.skipped.map((x) => [x.index, x.reason]),
      [[2, "DealsNotCommitted"]],
    );
    const paid = { [addr(f.provider)]: 2n * (PRICE + COLLATERAL), [addr(f.jobCreator)]: 2n * fee, totalLocked: -2n * (PRICE + COLLATERAL + fee) };
    await f.assertMoved(before, paid);
    const again = await finalizeDeals(f.stranger, { deals });
    assert.deepEqual(again.settled, []);
    await f.assertMoved(before, paid);
  });

  test("skips an audit deal whose draw block is not mined yet and a deal that was never committed", async () => {
    const audit = await f.newDeal(f.policyTerms("audit", 1_000_000n, { price: PRICE, collateral: parseEther("3"), royaltyBps: 0 }));
    const open = await f.newDeal(f.policyTerms("optimistic", WINDOW, cheap));
    await openDeals(f.stranger, { deals: [audit, open] });
    await commitResults(f.provider, { results: [{ deal: audit.deal, resultDigest: digest }] });
    const before = await f.balances();
    const r = await finalizeDeals(f.stranger, { deals: [audit.deal, open.deal] });
    assert.deepEqual(
      r.skipped.map((x) => x.reason),
      ["DealsAuditDrawPending", "DealsNotCommitted"],
    );
    await f.assertMoved(before, {});
    await f.mine(3);
    const drawn = await finalizeDeals(f.stranger, { deals: [audit.deal] });
    assert.deepEqual(drawn.challenged, [dealId(f.addresses, audit.deal)], "p = 100%: always audited");
    await f.assertMoved(before, {});
  });
});

describe("a batch mixing good and bad items", () => {
  test("moves exactly what the good items move, whoever sends it", async () => {
    const goods = await Promise.all([1, 2, 3, 4].map(() => f.newDeal(cheap)));
    const forged = await f.newDeal(cheap);
    forged.jobCreatorSig = await f.sign(f.stranger, forged.deal);
    const reopened = goods[0]!;
    await f.open(reopened);
    const before = await f.balances();
    const r = await openDeals(f.stranger, { deals: [goods[1]!, forged, reopened, goods[2]!, goods[3]!, goods[1]!] });
    assert.equal(r.opened.length, 3);
    assert.deepEqual(
      r.skipped.map((x) => [x.index, x.reason]),
      [
        [1, "DealsInvalidSignature"],
        [2, "DealsAlreadyOpened"],
        [5, "DealsAlreadyOpened"],
      ],
    );
    await f.assertMoved(before, { [addr(f.jobCreator)]: -3n * PRICE, [addr(f.provider)]: -3n * COLLATERAL, totalLocked: 3n * (PRICE + COLLATERAL) });
    const settled = await commitResults(f.provider, { results: [forged, ...goods].map((s) => ({ deal: s.deal, resultDigest: digest })) });
    assert.deepEqual(
      settled.skipped.map((x) => [x.index, x.reason]),
      [[0, "DealsNotOpen"]],
    );
    assert.equal(settled.settled.length, 4);
    await f.assertMoved(before, { [addr(f.jobCreator)]: -3n * PRICE, [addr(f.provider)]: 4n * PRICE + COLLATERAL, totalLocked: -(PRICE + COLLATERAL) });
  });
});
