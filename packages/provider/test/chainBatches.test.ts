// The provider's batched openings and commits against a real chain (anvil with LilyDeals):
// deals ready together go out in one transaction; an item the chain rules out fails alone, with
// the same refusal its single call would have met (what the provider's steps read); a batch the
// contract refuses whole is sent item by item; nothing opens or pays twice. Escrow to the wei.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { keccak256, parseEther, toHex, type Address } from "viem";
import { commitResult, createLilyClient, dealId, dealState, openDeal } from "@lily/chain";
import { startFixture, type Fixture, type SignedDeal } from "../../chain/test/fixture.ts";
import { createChainBatches, type ChainBatches } from "../src/batch/chainBatches.ts";
import { refusal } from "../src/refusal.ts";

let f: Fixture;
let batches: ChainBatches;
before(async () => {
  f = await startFixture();
  // These deals are signed for LilyDeals: the provider's client on a network that names no LilyTrustDeals
  // (trustChainBatches.test.ts has the routed ones).
  const { trustDeals: _, ...lilyDealsOnly } = f.addresses;
  batches = createChainBatches(createLilyClient({ rpcUrl: f.anvil.rpcUrl, account: f.provider.account!, addresses: lilyDealsOnly }));
});
after(() => f.stop());

const PRICE = parseEther("1");
const COLLATERAL = parseEther("2");
const cheap = { price: PRICE, collateral: COLLATERAL };
const digest = keccak256(toHex("a result record"));
const addr = (c: { account?: { address: Address } }) => c.account!.address;
const stateOf = (s: SignedDeal) => dealState(f.deployer, { dealId: dealId(f.addresses, s.deal) });
const providerTxCount = () => f.deployer.publicClient.getTransactionCount({ address: addr(f.provider) });

describe("the provider's batched openings", () => {
  test("deals ready in the same turn open in one openDeals transaction, each locking its price and collateral once", async () => {
    const deals = await Promise.all([1, 2, 3, 4].map(() => f.newDeal(cheap)));
    const before = await f.balances();
    const txsBefore = await providerTxCount();
    const sent = await Promise.all(deals.map((d) => batches.open(d)));
    assert.equal(new Set(sent.map((s) => s.txHash)).size, 1, "one transaction carried them all");
    assert.deepEqual(
      sent.map((s) => s.batchSize),
      [4, 4, 4, 4],
    );
    assert.equal((await providerTxCount()) - txsBefore, 1);
    for (const d of deals) assert.equal(await stateOf(d), "open");
    await f.assertMoved(before, { [addr(f.jobCreator)]: -4n * PRICE, [addr(f.provider)]: -4n * COLLATERAL, totalLocked: 4n * (PRICE + COLLATERAL) });
  });

  test("an item someone else opened first fails alone with DealsAlreadyOpened, as openDeal would; the rest open", async () => {
    const [taken, a, b] = await Promise.all([1, 2, 3].map(() => f.newDeal(cheap)));
    await f.open(taken!); // the job creator (or anyone) was quicker
    const before = await f.balances();
    const outcomes = await Promise.allSettled([taken, a, b].map((d) => batches.open(d!)));
    assert.equal(outcomes[0]!.status, "rejected");
    assert.equal(refusal((outcomes[0] as PromiseRejectedResult).reason), "DealsAlreadyOpened");
    // The single call's refusal, for comparison: the provider's steps read the same name.
    const single = await openDeal(f.provider, taken!).catch((e) => e);
    assert.equal(refusal(single), "DealsAlreadyOpened");
    assert.deepEqual(
      outcomes.slice(1).map((o) => o.status),
      ["fulfilled", "fulfilled"],
    );
    await f.assertMoved(before, { [addr(f.jobCreator)]: -2n * PRICE, [addr(f.provider)]: -2n * COLLATERAL, totalLocked: 2n * (PRICE + COLLATERAL) });
  });

  test("an item whose job creator signature is not its own is refused alone (DealsInvalidSignature); nothing of it is locked", async () => {
    const good = await f.newDeal(cheap);
    const forged = await f.newDeal(cheap);
    forged.jobCreatorSig = await f.sign(f.stranger, forged.deal);
    const before = await f.balances();
    const [g, bad] = await Promise.allSettled([batches.open(good), batches.open(forged)]);
    assert.equal(g.status, "fulfilled");
    assert.equal(refusal((bad as PromiseRejectedResult).reason), "DealsInvalidSignature");
    assert.equal(await stateOf(forged), "none");
    await f.assertMoved(before, { [addr(f.jobCreator)]: -PRICE, [addr(f.provider)]: -COLLATERAL, totalLocked: PRICE + COLLATERAL });
  });

  test("a batch the contract refuses whole (one item's signed royalty) is sent item by item: only that item is refused", async () => {
    const good = await f.newDeal(cheap);
    const bad = await f.newDeal({ ...cheap, royaltyBps: 10_001, moduleCreator: addr(f.moduleCreator) });
    const before = await f.balances();
    const [g, b] = await Promise.allSettled([batches.open(good), batches.open(bad)]);
    assert.equal(g.status, "fulfilled");
    assert.equal((g as PromiseFulfilledResult<{ batchSize: number }>).value.batchSize, 1, "sent alone after the batch was refused");
    assert.equal(refusal((b as PromiseRejectedResult).reason), "DealsInvalidRoyalty");
    await f.assertMoved(before, { [addr(f.jobCreator)]: -PRICE, [addr(f.provider)]: -COLLATERAL, totalLocked: PRICE + COLLATERAL });
  });
});

describe("the provider's batched commits", () => {
  test("results ready in the same turn commit in one commitResults transaction; under trust each deal is paid once", async () => {
    const deals = await Promise.all([1, 2, 3].map(() => f.newDeal(cheap)));
    for (const d of deals) await f.open(d);
    const before = await f.balances();
    const sent = await Promise.all(deals.map((d) => batches.commit({ deal: d.deal, resultDigest: digest })));
    assert.equal(new Set(sent.map((s) => s.txHash)).size, 1);
    assert.ok(sent.every((s) => s.settled && s.batchSize === 3));
    for (const d of deals) assert.equal(await stateOf(d), "settled");
    // Paid: the provider gets each price and its collateral back; the job creator's locked price goes.
    await f.assertMoved(before, { [addr(f.provider)]: 3n * (PRICE + COLLATERAL), totalLocked: -3n * (PRICE + COLLATERAL) });
  });

  test("a result sent twice (a restart before the receipt) is skipped the second time with DealsNotOpen: never paid twice", async () => {
    const [done, fresh] = await Promise.all([1, 2].map(() => f.newDeal(cheap)));
    await f.open(done!);
    await f.open(fresh!);
    await commitResult(f.provider, { deal: done!.deal, resultDigest: digest });
    const before = await f.balances();
    const [again, other] = await Promise.allSettled([
      batches.commit({ deal: done!.deal, resultDigest: digest }),
      batches.commit({ deal: fresh!.deal, resultDigest: digest }),
    ]);
    assert.equal(refusal((again as PromiseRejectedResult).reason), "DealsNotOpen");
    assert.equal(other.status, "fulfilled");
    await f.assertMoved(before, { [addr(f.provider)]: PRICE + COLLATERAL, totalLocked: -(PRICE + COLLATERAL) });
  });

  test("a deal of another provider in the batch is skipped (DealsNotProvider); this provider's own commits go ahead", async () => {
    const mine = await f.newDeal(cheap);
    const theirs = await f.newDeal({ ...cheap, provider: addr(f.providers[1]!) });
    await f.open(mine);
    await f.open(theirs);
    const before = await f.balances();
    const [m, t] = await Promise.allSettled([
      batches.commit({ deal: mine.deal, resultDigest: digest }),
      batches.commit({ deal: theirs.deal, resultDigest: digest }),
    ]);
    assert.equal(m.status, "fulfilled");
    assert.equal(refusal((t as PromiseRejectedResult).reason), "DealsNotProvider");
    assert.equal(await stateOf(theirs), "open");
    await f.assertMoved(before, { [addr(f.provider)]: PRICE + COLLATERAL, totalLocked: -(PRICE + COLLATERAL) });
  });

  test("a lone result goes out with the single commitResult", async () => {
    const d = await f.newDeal(cheap);
    await f.open(d);
    const sent = await batches.commit({ deal: d.deal, resultDigest: digest });
    assert.equal(sent.batchSize, 1);
    assert.equal(await stateOf(d), "settled");
  });
});
