// The mediator against a real chain, store and solver: disputes raised the way the parties raise
// them (a challenge, an audit draw, a replica tally), ruled by re-running cowsay in the sandbox.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { type Hex } from "viem";
import {
  challenge,
  commitResult,
  dealId,
  dealState,
  escrowBalance,
  finalize,
  fundAccount,
  getDealEvents,
  mediatorOf,
  openDeal,
  settleReplicas,
} from "@lily/chain";
import { isAddressEqual, parseEther } from "viem";
import { Policy, cidDigest, commonMediators, mediatorSetHash, type DealMessage } from "@lily/protocol";
import { startMediator, type RunningMediator } from "../src/mediator.ts";
import type { Dispute } from "../src/dispute.ts";
import { COLLATERAL, FEE, PRICE, startNetwork, testKey, type Network } from "./network.ts";

let net: Network;
let mediator: RunningMediator;
let outsider: RunningMediator;

before(async () => {
  net = await startNetwork();
  mediator = await startMediator(net.mediatorOptions(net.mediator.account!, "mediator"), { logger: net.logger });
  outsider = await startMediator(net.mediatorOptions(net.outsider.account!, "outsider"), { logger: net.logger });
});
after(async () => {
  await mediator?.close();
  await outsider?.close();
  await net?.stop();
});

async function eventually<T>(what: string, read: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const disputeOf = (m: RunningMediator, key: Hex) => m.disputes().find((d) => d.key === key.toLowerCase());
const settledIn = (m: RunningMediator, key: Hex, statuses: Dispute["status"][]) =>
  eventually(`dispute ${key.slice(0, 10)} ${statuses.join("/")}`, () => {
    const d = disputeOf(m, key);
    return d && statuses.includes(d.status) ? d : undefined;
  });
const balances = async () => ({
  jobCreator: await escrowBalance(net.deployer, { account: net.jobCreator.account!.address }),
  provider: await escrowBalance(net.deployer, { account: net.providers[0]!.account!.address }),
  provider2: await escrowBalance(net.deployer, { account: net.providers[1]!.account!.address }),
  mediator: await escrowBalance(net.deployer, { account: net.mediator.account!.address }),
});
const nonceOf = (address: Hex) => net.deployer.publicClient.getTransactionCount({ address });

/** An optimistic deal matched by the solver, opened, with a result committed by the provider. */
async function optimisticDealWithResult(message: string, honest: boolean) {
  const provider = net.providers[0]!;
  await net.resourceOffer(provider, true);
  const job = await net.postJobOffer(Policy.optimistic, 60n, message);
  const record = await net.solver.getJobOffer({ params: { id: job.id } });
  assert.equal(record.status, "matched", JSON.stringify(record.rejections));
  const { deal } = await net.solver.getDeal({ params: { id: record.dealIds[0]! } });
  const signed = await net.signedDeal(deal);
  await openDeal(provider, signed);
  const id = dealId(net.addresses, deal);
  const result = honest ? await net.honestResult(id, job.offer.inputs) : await net.wrongResult(id, job.offer.inputs);
  await commitResult(provider, { deal, resultDigest: cidDigest(result) });
  return { deal, id };
}

test("a challenged wrong result is re-run, ruled wrong, and the provider slashed", async () => {
  const start = await balances();
  const { deal, id } = await optimisticDealWithResult("hello", false);
  await challenge(net.jobCreator, { deal, reason: "wrong cow" });

  // The mediator is drawn from the hash of the block after the challenge's: until it is mined,
  // the mediator waits.
  const waiting = await eventually("the mediator sees the dispute", () => disputeOf(mediator, id));
  assert.equal(waiting.status, "seen");
  await eventually("the mediator finds the draw pending", () => (disputeOf(mediator, id)?.error?.includes("not mined yet") ? true : undefined));
  await net.mine(2);

  const d = await settledIn(mediator, id, ["ruled", "failed"]);
  assert.equal(d.status, "ruled", d.error);
  assert.equal(d.kind, "challenge");
  assert.deepEqual(d.ruling!.correct, [false]);
  assert.match(d.ruling!.details[0]!, /stdout: bytes differ/);
  assert.equal(await dealState(net.deployer, { dealId: id }), "slashed");

  const end = await balances();
  assert.equal(end.mediator - start.mediator, FEE, "the mediator is paid its fee");
  assert.equal(end.provider - start.provider, -COLLATERAL, "the provider loses its collateral");
  assert.equal(end.jobCreator - start.jobCreator, COLLATERAL - FEE, "the job creator is refunded, and gets the collateral less the fee");
  const ruled = (await getDealEvents(net.deployer, { dealId: id })).filter((e) => e.name === "Ruled");
  assert.equal(ruled.length, 1);
  assert.equal(ruled[0]!.txHash, d.rulingTx);
});

test("a mediator the parties did not accept records the dispute as not its own and sends nothing", async () => {
  const [first] = mediator.disputes();
  const d = await settledIn(outsider, first!.key, ["not-mine", "failed"]);
  assert.equal(d.status, "not-mine");
  // Either reason keeps it out: it is not in the list, or the dispute was already ruled on.
  assert.match(d.error!, /not in the mediator list|resolved without us/);
  assert.equal(await nonceOf(net.outsider.account!.address), 0);
});

test("a restarted mediator resumes from its database and never rules twice", async () => {
  const before = mediator.disputes();
  const nonce = await nonceOf(net.mediator.account!.address);
  await mediator.close();
  mediator = await startMediator(net.mediatorOptions(net.mediator.account!, "mediator"), { logger: net.logger });

  // A new dispute after the restart is ruled, so the restarted mediator has made full passes...
  const start = await balances();
  const { deal, id } = await optimisticDealWithResult("a false challenge", true);
  await challenge(net.jobCreator, { deal });
  await net.mine(2);
  const d = await settledIn(mediator, id, ["ruled", "failed"]);

  // ...a false challenge: the provider was right, is paid, and the challenger pays the fee...
  assert.equal(d.status, "ruled", d.error);
  assert.deepEqual(d.ruling!.correct, [true]);
  assert.equal(await dealState(net.deployer, { dealId: id }), "settled");
  const end = await balances();
  assert.equal(end.provider - start.provider, PRICE);
  assert.equal(end.jobCreator - start.jobCreator, -PRICE - FEE);
  assert.equal(end.mediator - start.mediator, FEE);

  // ...and the earlier ruling was not sent again.
  assert.deepEqual(mediator.disputes().filter((x) => x.key !== id.toLowerCase()), before);
  assert.equal(await nonceOf(net.mediator.account!.address), nonce + 1);
});

test("an audit that hits sends the deal to the mediator, who finds the provider wrong", async () => {
  const provider = net.providers[0]!;
  const start = await balances();
  const job = await net.postJobOffer(Policy.audit, 1_000_000n, "audit me"); // p = 100%: always audited
  const ro = await net.resourceOffer(provider, false);
  const now = (await net.deployer.publicClient.getBlock()).timestamp;
  const deal: DealMessage = {
    jobCreator: net.jobCreator.account!.address, provider: provider.account!.address, jobOffer: job.id, resourceOffer: ro.id,
    price: PRICE, collateral: COLLATERAL, deadline: now + 3600n, policy: Policy.audit, policyParam: 1_000_000n,
    mediationFee: FEE, mediators: mediatorSetHash([net.mediator.account!.address]), moduleCreator: job.offer.moduleCreator, royaltyBps: 0,
  };
  await openDeal(provider, await net.signedDeal(deal));
  const id = dealId(net.addresses, deal);
  await commitResult(provider, { deal, resultDigest: cidDigest(await net.wrongResult(id, job.offer.inputs)) });
  await net.mine(3); // the audit draws from the hash of commit block + 2
  const drawn = await finalize(net.jobCreator, { deal });
  assert.equal(drawn.outcome, "challenged");
  await net.mine(2);

  const d = await settledIn(mediator, id, ["ruled", "failed"]);
  assert.equal(d.status, "ruled", d.error);
  assert.equal(d.kind, "audit");
  assert.deepEqual(d.ruling!.correct, [false]);
  assert.equal(await dealState(net.deployer, { dealId: id }), "slashed");
  const end = await balances();
  assert.equal(end.provider - start.provider, -COLLATERAL);
  assert.equal(end.mediator - start.mediator, FEE);
});

test("two replicas that disagree go to the mediator, who pays the right one and slashes the other", async () => {
  const [honest, cheat] = net.providers as [typeof net.providers[0], typeof net.providers[0]];
  const start = await balances();
  const job = await net.postJobOffer(Policy.replicate, 2n, "two of us");
  const now = (await net.deployer.publicClient.getBlock()).timestamp;
  const deals: DealMessage[] = [];
  for (const provider of [honest, cheat]) {
    const ro = await net.resourceOffer(provider, false); // never posted: the list comes from the job offer
    deals.push({
      jobCreator: net.jobCreator.account!.address, provider: provider.account!.address, jobOffer: job.id, resourceOffer: ro.id,
      price: PRICE, collateral: COLLATERAL, deadline: now + 3600n, policy: Policy.replicate, policyParam: 2n,
      mediationFee: FEE, mediators: mediatorSetHash([net.mediator.account!.address]), moduleCreator: job.offer.moduleCreator, royaltyBps: 0,
    });
  }
  for (const [i, provider] of [honest, cheat].entries()) {
    const deal = deals[i]!;
    await openDeal(provider, await net.signedDeal(deal));
    const id = dealId(net.addresses, deal);
    const result = i === 0 ? await net.honestResult(id, job.offer.inputs) : await net.wrongResult(id, job.offer.inputs);
    await commitResult(provider, { deal, resultDigest: cidDigest(result) });
  }
  const tally = await settleReplicas(net.jobCreator, { deals });
  assert.equal(tally.majority, false);
  await net.mine(2);

  const d = await settledIn(mediator, job.id, ["ruled", "failed"]);
  assert.equal(d.status, "ruled", d.error);
  assert.equal(d.kind, "replicas");
  assert.deepEqual(d.ruling!.correct, [true, false]);
  const ids = deals.map((x) => dealId(net.addresses, x));
  assert.equal(await dealState(net.deployer, { dealId: ids[0]! }), "settled");
  assert.equal(await dealState(net.deployer, { dealId: ids[1]! }), "slashed");
  const end = await balances();
  assert.equal(end.provider - start.provider, PRICE);
  assert.equal(end.provider2 - start.provider2, -COLLATERAL);
  assert.equal(end.mediator - start.mediator, FEE, "one fee per group, from the wrong replica");
});

test("of two mediators both parties accept, only the drawn one rules; the other waits for the draw to move", async () => {
  const second = net.clientFor(testKey("second mediator"));
  await fundAccount(net.deployer, { to: second.account!.address, eth: parseEther("1") });
  const other = await startMediator(net.mediatorOptions(second.account!, "second"), { logger: net.logger });
  try {
    const both = commonMediators([net.mediator.account!.address, second.account!.address], [net.mediator.account!.address, second.account!.address]);
    const provider = net.providers[0]!;
    await net.resourceOffer(provider, true, both);
    const job = await net.postJobOffer(Policy.optimistic, 60n, "two mediators", both);
    const record = await net.solver.getJobOffer({ params: { id: job.id } });
    assert.equal(record.status, "matched", JSON.stringify(record.rejections));
    const { deal } = await net.solver.getDeal({ params: { id: record.dealIds[0]! } });
    await openDeal(provider, await net.signedDeal(deal));
    const id = dealId(net.addresses, deal);
    await commitResult(provider, { deal, resultDigest: cidDigest(await net.wrongResult(id, job.offer.inputs)) });
    await challenge(net.jobCreator, { deal });
    await net.mine(2);

    const drawn = await mediatorOf(net.deployer, { deal, mediators: both });
    const [winner, loser] = isAddressEqual(drawn, net.mediator.account!.address) ? [mediator, other] : [other, mediator];
    const ruled = await settledIn(winner, id, ["ruled", "failed"]);
    assert.equal(ruled.status, "ruled", ruled.error);
    // The other one found either that someone else is drawn (and when to look again), or, if it
    // looked after the ruling, that the dispute is over. Either way it never re-ran or ruled.
    const seen = await eventually("the other mediator looks at the dispute", () => {
      const d = disputeOf(loser, id);
      return d?.error ? d : undefined;
    });
    if (seen.status === "seen") {
      assert.match(seen.error!, /is drawn/);
      assert.ok(seen.recheckBlock! > Number(await net.deployer.publicClient.getBlockNumber()), "it looks again only when the draw can change");
    } else {
      assert.equal(seen.status, "not-mine");
      assert.match(seen.error!, /resolved without us/);
    }
    assert.equal(seen.ruling, undefined, "it never re-ran the job");
    assert.equal(seen.rulingTx, undefined);
  } finally {
    await other.close();
  }
});
