// Programmable verification end to end: the same job under optimistic and audit policies, with
// an honest provider, a cheating one, and a job creator who challenges a correct result. The
// mediator is a real process that re-runs the job in the same sandbox and rules on chain.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { parseEther, type Address, type Hex } from "viem";
import { createLilyClient, dealState, escrowBalance, totalLocked, type LilyClient } from "@lily/chain";
import { startDevnet, lily, until, type Devnet } from "./lilyProcess.ts";

const PRICE = parseEther("1");
const COLLATERAL = parseEther("5");
const FEE = parseEther("1");

function balances(chain: LilyClient, who: Record<string, Address>) {
  return async () => Object.fromEntries(await Promise.all(Object.entries(who).map(async ([k, a]) => [k, await escrowBalance(chain, { account: a })] as const)));
}

async function run(net: Devnet, policy: string, message: string) {
  const r = await lily(net.home, ["run", "cowsay@1.0.0", "-i", `message=${message}`, "--policy", policy, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { jobOfferId: Hex; dealId: Hex; stdout: string; settlement: string; provider: Address };
}

const settledState = (chain: LilyClient, dealId: Hex) => async () => {
  const s = await dealState(chain, { dealId });
  return s === "settled" || s === "slashed" || s === "timedOut" ? s : undefined;
};

describe("with honest providers", () => {
  let net: Devnet;
  let chain: LilyClient;
  let who: Record<string, Address>;
  before(async () => {
    net = await startDevnet(["--sign-window", "5"]);
    chain = createLilyClient({ rpcUrl: net.network.rpcUrl, addresses: net.network });
    who = { jc: net.state.jobCreator, provider: net.state.roles["provider-1"]!.address!, mediator: net.state.roles["mediator-1"]!.address! };
  });
  after(() => net?.stop());

  test("an unchallenged optimistic result is paid when the window closes", async () => {
    const read = balances(chain, who);
    const b = await read();
    const result = await run(net, "optimistic:3s", "patience");
    assert.equal(result.settlement, "committed");
    assert.match(result.stdout, /< patience >/);
    assert.equal(await until("settlement", settledState(chain, result.dealId)), "settled");
    const a = await read();
    assert.equal(a.jc, b.jc - PRICE, "job creator paid the price; its fee reserve came back");
    assert.equal(a.provider, b.provider + PRICE);
    assert.equal(a.mediator, b.mediator);
    assert.equal(await totalLocked(chain), 0n);
  });

  test("a false challenge of a correct result costs the challenger the mediation fee", async () => {
    const read = balances(chain, who);
    const b = await read();
    const result = await run(net, "optimistic:60s", "i am right");
    const c = await lily(net.home, ["challenge", result.jobOfferId.slice(0, 12)]);
    assert.equal(c.code, 0, c.stderr);
    assert.equal(await until("ruling", settledState(chain, result.dealId)), "settled");
    const a = await read();
    assert.equal(a.jc, b.jc - PRICE - FEE, "price paid and the fee lost");
    assert.equal(a.provider, b.provider + PRICE, "the provider is paid in full");
    assert.equal(a.mediator, b.mediator + FEE, "the mediator earned the fee");
    const show = await lily(net.home, ["jobs", "show", result.jobOfferId.slice(0, 12)]);
    assert.match(show.stdout, /DealChallenged/);
    assert.match(show.stdout, /Ruled .*providerCorrect=true/);
  });

  test("an audited honest result is paid, and the job creator who asked for audits pays the mediator", async () => {
    const read = balances(chain, who);
    const b = await read();
    const result = await run(net, "audit:100%", "audit me");
    assert.equal(await until("audit and ruling", settledState(chain, result.dealId)), "settled");
    const a = await read();
    assert.equal(a.provider, b.provider + PRICE);
    assert.equal(a.jc, b.jc - PRICE - FEE);
    assert.equal(a.mediator, b.mediator + FEE);
  });

  test("replicate(2) runs the job on both providers and pays both when their results agree", async () => {
    const p2 = net.state.roles["provider-2"]!.address!;
    const read = balances(chain, { ...who, p2 });
    const b = await read();
    const r = await lily(net.home, ["run", "cowsay@1.0.0", "-i", "message=twice", "--policy", "replicate:2", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout) as { replicas: { provider: Address; state: string }[]; stdout: string };
    assert.match(result.stdout, /< twice >/);
    assert.deepEqual(
      result.replicas.map((x) => x.state),
      ["settled", "settled"],
    );
    const a = await read();
    assert.equal(a.provider, b.provider + PRICE);
    assert.equal(a.p2, b.p2 + PRICE + PRICE / 2n, "provider-2 asks 1.5 LILY");
    assert.equal(a.jc, b.jc - PRICE - PRICE - PRICE / 2n, "the job creator paid both replicas and got its fee reserves back");
    assert.equal(await totalLocked(chain), 0n);
  });

  test("--quote prints the cost and catch probability without running anything", async () => {
    const before = await escrowBalance(chain, { account: who.jc! });
    const q = await lily(net.home, ["run", "cowsay@1.0.0", "-i", "message=x", "--policy", "audit:10%", "--quote", "--quote-jobs", "20"]);
    assert.equal(q.code, 0, q.stderr);
    assert.match(q.stdout, /catch, one job +10\.0%/);
    assert.match(q.stdout, /catch, 20 +jobs +87\.8%/); // 1 - 0.9^20
    assert.equal(await escrowBalance(chain, { account: who.jc! }), before);
  });

  test("an unsafe audit rate is refused before anything is locked", async () => {
    const before = await escrowBalance(chain, { account: who.jc! });
    // p × collateral must cover the price: 1% × 5 LILY < 1 LILY
    const r = await lily(net.home, ["run", "cowsay@1.0.0", "-i", "message=x", "--policy", "audit:1%", "--match-timeout", "4s"]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /audit|unsafe|collateral/i);
    assert.equal(await escrowBalance(chain, { account: who.jc! }), before);
    assert.equal(await totalLocked(chain), 0n);
  });
});

describe("with a cheating provider on the network", () => {
  let net: Devnet;
  let chain: LilyClient;
  let who: Record<string, Address>;
  before(async () => {
    net = await startDevnet(["--sign-window", "5", "--adversary", "cheat"]);
    chain = createLilyClient({ rpcUrl: net.network.rpcUrl, addresses: net.network });
    who = { jc: net.state.jobCreator, cheat: net.state.roles["adversary-cheat"]!.address!, mediator: net.state.roles["mediator-1"]!.address! };
  });
  after(() => net?.stop());

  test("a fabricated result is challenged, re-run by the mediator, and the cheater slashed", async () => {
    const read = balances(chain, who);
    const b = await read();
    const result = await run(net, "optimistic:60s", "the truth");
    assert.equal(result.provider, who.cheat, "the cheapest provider, the cheater, got the job");
    assert.doesNotMatch(result.stdout, /the truth/, "its result is fabricated");
    const c = await lily(net.home, ["challenge", result.jobOfferId.slice(0, 12), "--reason", "not my message"]);
    assert.equal(c.code, 0, c.stderr);
    assert.equal(await until("ruling", settledState(chain, result.dealId)), "slashed");
    const a = await read();
    assert.equal(a.jc, b.jc + COLLATERAL - FEE, "refunded the price and the fee, and given the collateral less the mediator's fee");
    assert.equal(a.cheat, b.cheat - COLLATERAL, "the cheater lost its collateral and was not paid");
    assert.equal(a.mediator, b.mediator + FEE);
    assert.equal(await totalLocked(chain), 0n);
  });

  test("under replicate(3) the cheater is the minority: slashed, while the two honest replicas are paid", async () => {
    const read = balances(chain, who);
    const b = await read();
    const r = await lily(net.home, ["run", "cowsay@1.0.0", "-i", "message=majority", "--policy", "replicate:3", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout) as { replicas: { provider: Address; state: string }[]; stdout: string };
    assert.match(result.stdout, /< majority >/, "the result downloaded is the majority's");
    const cheat = result.replicas.find((x) => x.provider === who.cheat);
    assert.equal(cheat?.state, "slashed");
    assert.equal(result.replicas.filter((x) => x.state === "settled").length, 2);
    const a = await read();
    assert.equal(a.cheat, b.cheat - COLLATERAL, "the cheater lost its collateral");
    assert.equal(await totalLocked(chain), 0n);
  });

  test("under audit(100%) the cheater is caught without anyone challenging", async () => {
    const read = balances(chain, who);
    const b = await read();
    const result = await run(net, "audit:100%", "audited truth");
    assert.equal(result.provider, who.cheat);
    assert.equal(await until("audit and ruling", settledState(chain, result.dealId)), "slashed");
    const a = await read();
    assert.equal(a.cheat, b.cheat - COLLATERAL);
    assert.equal(a.jc, b.jc + COLLATERAL - FEE);
  });
});

describe("with a colluding pair of providers on the network", () => {
  let net: Devnet;
  let chain: LilyClient;
  before(async () => {
    net = await startDevnet(["--sign-window", "5", "--adversary", "collude"]);
    chain = createLilyClient({ rpcUrl: net.network.rpcUrl, addresses: net.network });
  });
  after(() => net?.stop());

  test("audit(100%) catches each member of the pair on its own: agreeing with each other proves nothing", async () => {
    const pair = [net.state.roles["adversary-collude-1"]!.address!, net.state.roles["adversary-collude-2"]!.address!];
    for (const message of ["first", "second"]) {
      const result = await run(net, "audit:100%", message);
      assert.ok(pair.includes(result.provider), "a colluder (the cheapest) got the job");
      assert.equal(await until("audit and ruling", settledState(chain, result.dealId)), "slashed");
    }
  });

  test("replicate(3) assumes an honest majority: the pair outvotes the honest replica (documented limit)", async () => {
    const honest = net.state.roles["provider-1"]!.address!;
    const b = await escrowBalance(chain, { account: honest });
    const r = await lily(net.home, ["run", "cowsay@1.0.0", "-i", "message=outvoted", "--policy", "replicate:3", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout) as { replicas: { provider: Address; state: string }[]; stdout: string };
    assert.doesNotMatch(result.stdout, /outvoted/, "the majority's fabricated result is what was paid for");
    assert.equal(result.replicas.find((x) => x.provider === honest)?.state, "slashed");
    assert.equal(await escrowBalance(chain, { account: honest }), b - COLLATERAL);
  });
});

describe("with a lazy provider on the network", () => {
  let net: Devnet;
  let chain: LilyClient;
  before(async () => {
    net = await startDevnet(["--sign-window", "3", "--adversary", "lazy"]);
    chain = createLilyClient({ rpcUrl: net.network.rpcUrl, addresses: net.network });
  });
  after(() => net?.stop());

  test("a provider that opens a deal and never delivers is slashed at the deadline, the job creator refunded", async () => {
    const lazy = net.state.roles["adversary-lazy"]!.address!;
    const read = balances(chain, { jc: net.state.jobCreator, lazy });
    const b = await read();
    const r = await lily(net.home, ["run", "cowsay@1.0.0", "-i", "message=anyone?", "--timeout", "3s"]);
    assert.equal(r.code, 7, r.stderr);
    assert.match(r.stderr, new RegExp(`provider ${lazy} missed the deadline`));
    const a = await read();
    assert.equal(a.jc, b.jc + COLLATERAL, "refunded the price and given the collateral");
    assert.equal(a.lazy, b.lazy - COLLATERAL);
    assert.equal(await totalLocked(chain), 0n);
  });
});

describe("with a false challenger on the network", () => {
  let net: Devnet;
  let chain: LilyClient;
  before(async () => {
    net = await startDevnet(["--sign-window", "5", "--adversary", "false-challenger"]);
    chain = createLilyClient({ rpcUrl: net.network.rpcUrl, addresses: net.network });
  });
  after(() => net?.stop());

  test("every false challenge is ruled against the challenger, who pays the fee while the provider is paid", async () => {
    const challenger = net.state.roles["adversary-false-challenger"]!.address!;
    const mediator = net.state.roles["mediator-1"]!.address!;
    // The bot starts with the 100 LILY the devnet deposits for it, and is already at work, so
    // measure against that. Each ruled round: 1 LILY price to provider-1, 1 LILY fee to the mediator.
    const start = parseEther("100");
    await until("the first false challenge to be ruled on", async () => ((await escrowBalance(chain, { account: mediator })) >= FEE ? true : undefined));
    const earned = await escrowBalance(chain, { account: mediator });
    const rounds = earned / FEE;
    assert.equal(earned % FEE, 0n, "the mediator earns whole fees");
    assert.ok(
      (await escrowBalance(chain, { account: challenger })) <= start - rounds * (PRICE + FEE),
      "every ruled round cost the challenger the price and the fee",
    );
  });
});
