import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { keccak256, parseEther, toHex } from "viem";
import { commitResult, dealRecord, dealState, finalize, getDealEvents, lilyDealsAbi, rule } from "../src/index.ts";
import { expectedAuditDraw, rejectsWith, startFixture, type Fixture } from "./fixture.ts";

let f: Fixture;
before(async () => (f = await startFixture()));
after(() => f.stop());

const right = keccak256(toHex("the right result"));
const wrong = keccak256(toHex("a made-up result"));
const HALF = 500_000n; // p = 50%: safe when collateral >= 2 × price
const blockHash = async (n: bigint) => (await f.deployer.publicClient.getBlock({ blockNumber: n })).hash!;

/** An audit(p) deal, opened and committed. */
async function committedDeal(p = HALF, resultDigest = right, price = parseEther("3")) {
  const signed = await f.newDeal(f.policyTerms("audit", p, { price, collateral: parseEther("6") }));
  const id = await f.open(signed);
  const committed = await commitResult(f.provider, { deal: signed.deal, resultDigest });
  return { ...signed, id, commitBlock: committed.blockNumber };
}

describe("the audit draw", () => {
  test("the contract's AUDIT_DELAY is 2 blocks", async () => {
    const delay = await f.deployer.publicClient.readContract({ address: f.addresses.deals, abi: lilyDealsAbi, functionName: "AUDIT_DELAY" });
    assert.equal(delay, 2n);
  });

  test("waits for block commitBlock + 2, which did not exist when the provider committed", async () => {
    const { deal, id, commitBlock } = await committedDeal();
    const before = await f.snapshot(deal);
    const e = await rejectsWith(finalize(f.stranger, { deal }), "CHAIN_REVERT", "DealsAuditDrawPending");
    assert.match(e.message, new RegExp(`drawn from block ${commitBlock + 2n}, which is not mined yet`));
    await f.mine(1); // block commitBlock + 1: still not enough
    await rejectsWith(finalize(f.stranger, { deal }), "CHAIN_REVERT", "DealsAuditDrawPending");
    assert.deepEqual(await f.snapshot(deal), before);
    await f.mine(1);
    await finalize(f.stranger, { deal }); // sent now, it lands in commitBlock + 3
    assert.notEqual(await dealState(f.deployer, { dealId: id }), "committed");
  });

  test("is r = keccak256(abi.encode(blockhash(commitBlock + 2), dealId)) % 10^6, audited when r < p: both branches", async () => {
    const seen = { audited: 0, passed: 0 };
    for (let i = 0; i < 40 && (seen.audited === 0 || seen.passed === 0); i++) {
      const { deal, id, commitBlock } = await committedDeal();
      const { price, collateral, mediationFee } = deal;
      const royalty = price / 10n;
      await f.mine(2);
      const r = expectedAuditDraw(await blockHash(commitBlock + 2n), id);
      const b0 = await f.balances();
      const finalized = await finalize(f.stranger, { deal });
      assert.deepEqual(finalized.audit, { draw: r, drawBlock: commitBlock + 2n, audited: r < HALF });
      if (r < HALF) {
        seen.audited++;
        assert.equal(finalized.outcome, "challenged");
        const record = await dealRecord(f.deployer, { dealId: id });
        assert.equal(record.state, "challenged");
        assert.equal(record.drawBlock, commitBlock + 2n);
        await f.assertMoved(b0, {}); // nothing moves until the mediator rules
      } else {
        seen.passed++;
        assert.equal(finalized.outcome, "settled");
        assert.equal(await dealState(f.deployer, { dealId: id }), "settled");
        await f.assertMoved(b0, {
          [f.provider.account!.address]: price - royalty + collateral,
          [f.moduleCreator.account!.address]: royalty,
          [f.jobCreator.account!.address]: mediationFee,
          totalLocked: -(price + mediationFee + collateral),
        });
      }
    }
    assert.ok(seen.audited > 0 && seen.passed > 0, `saw both branches: ${JSON.stringify(seen)}`);
  });

  test("if finalized more than 256 blocks late, audits (r = 0) and draws the mediator from blocks after that", async () => {
    // p = 1 ppm would almost never audit (and is safe for a price of 10^-6 LILY).
    const { deal, id, commitBlock } = await committedDeal(1n, right, parseEther("0.000001"));
    await f.mine(300);
    assert.ok((await f.blockNumber()) - (commitBlock + 2n) >= 256n);
    const finalized = await finalize(f.stranger, { deal });
    assert.deepEqual(finalized.audit, { draw: 0n, drawBlock: finalized.blockNumber, audited: true });
    assert.equal((await dealRecord(f.deployer, { dealId: id })).drawBlock, finalized.blockNumber);
  });
});

describe("an audited deal", () => {
  /** Commit under audit(100%) so the draw always audits. */
  const audited = async (resultDigest: `0x${string}`) => {
    const d = await committedDeal(1_000_000n, resultDigest);
    await f.mine(2);
    const finalized = await finalize(f.stranger, { deal: d.deal });
    assert.equal(finalized.outcome, "challenged");
    return d;
  };

  test("with a correct result: the provider is paid, and the job creator's reserve pays the mediator (it chose to be audited)", async () => {
    const { deal, id } = await audited(right);
    const { price, collateral, mediationFee } = deal;
    const royalty = price / 10n;
    const mediator = await f.drawnMediator(deal);
    const b0 = await f.balances();
    await rule(mediator, { deal, mediators: f.mediatorSet, providerCorrect: true, comparator: "similarity" });
    await f.assertMoved(b0, {
      [f.provider.account!.address]: price - royalty + collateral,
      [f.moduleCreator.account!.address]: royalty,
      [mediator.account!.address]: mediationFee,
      totalLocked: -(price + mediationFee + collateral),
    });
    const names = (await getDealEvents(f.deployer, { dealId: id })).map((e) => e.name);
    assert.deepEqual(names, ["DealOpened", "ResultCommitted", "MediationRequested", "AuditDrawn", "RoyaltyPaid", "MediationFeePaid", "DealSettled", "Ruled"]);
  });

  test("with a wrong result: the provider is slashed and the job creator gets everything back plus the collateral less the fee", async () => {
    const { deal, id } = await audited(wrong);
    const { price, collateral, mediationFee } = deal;
    const mediator = await f.drawnMediator(deal);
    const b0 = await f.balances();
    await rule(mediator, { deal, mediators: f.mediatorSet, providerCorrect: false, comparator: "exact" });
    assert.equal(await dealState(f.deployer, { dealId: id }), "slashed");
    await f.assertMoved(b0, {
      [f.jobCreator.account!.address]: price + mediationFee + collateral - mediationFee,
      [mediator.account!.address]: mediationFee,
      totalLocked: -(price + mediationFee + collateral),
    });
  });
});
