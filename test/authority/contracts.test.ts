// Authority map, contracts: they may NOT be drained or frozen by any single key; no admin can
// seize user funds. Shown on the real deployment: the ABIs and the runtime bytecode have no
// admin, upgrade, pause or mint path; the deployer (who holds the rest of the supply) has no
// power over escrow; nobody can act for a party through a contract it happens to call (no
// tx.origin); and every timeout path returns every locked token, called by a stranger, with
// exact conservation after each.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { encodeFunctionData, keccak256, parseEther, toHex, type Abi, type Address } from "viem";
import type { DealMessage } from "@lily/protocol";
import {
  lilyTrustDealsAbi,
  challenge,
  claimMediationTimeout,
  claimTimeout,
  commitResult,
  dealId,
  dealState,
  finalize,
  moduleRegistryAbi,
  openDeal,
  openReplicas,
  rule,
  settleReplicas,
  withLilyErrors,
  withdraw,
} from "../../packages/chain/src/index.ts";
import { rejectsWith, startFixture, type DealTerms, type Fixture } from "../../packages/chain/test/fixture.ts";
import {
  DOCUMENTED_DEALS_WRITES,
  DOCUMENTED_TRUST_DEALS_WRITES,
  DOCUMENTED_TOKEN_WRITES,
  OPCODE,
  addr,
  assertConserved,
  assertEscrowMoved,
  assertUnchanged,
  deployRelay,
  isAdminName,
  ledger,
  parties,
  lilyDealsAbi,
  lilyTokenAbi,
  opcodes,
  solidityClosure,
  stripComments,
  writeFunctions,
  type Relay,
} from "./helpers.ts";

const MEDIATION_TIMEOUT = 600;
const WINDOW = 300n;
const right = keccak256(toHex("the right result"));
const wrong = keccak256(toHex("a made-up result"));
const digest = (s: string) => keccak256(toHex(s));
/** ModuleRegistry's state-changing functions: publishing, and handing a name on. It holds no funds. */
const DOCUMENTED_REGISTRY_WRITES = ["publish", "transferName"] as const;

let f: Fixture;
before(async () => (f = await startFixture({ mediationTimeoutSeconds: MEDIATION_TIMEOUT })));
/** Deals the tests below leave unfinished on purpose; the last test finishes them all. */
const leftOpen: DealMessage[] = [];
after(() => f.stop());

describe("no admin: nobody can seize, mint, pause or upgrade", () => {
  test("the ABIs of LilyToken, LilyDeals, LilyTrustDeals and ModuleRegistry have no owner, admin, pause, upgrade or mint function; every write is a documented one", () => {
    for (const [name, abi] of [
      ["LilyDeals", lilyDealsAbi],
      ["LilyTrustDeals", lilyTrustDealsAbi],
      ["LilyToken", lilyTokenAbi],
      ["ModuleRegistry", moduleRegistryAbi],
    ] as const) {
      const items = abi as Abi; // widened: the const ABIs already tell tsc there is no fallback
      const functions = items.filter((i) => i.type === "function").map((i) => i.name);
      assert.deepEqual(functions.filter(isAdminName), [], `${name} has no admin-like function`);
      assert.ok(!items.some((i) => i.type === "fallback" || i.type === "receive"), `${name} has no fallback or receive`);
      assert.ok(!items.some((i) => i.type === "function" && i.stateMutability === "payable"), `${name} takes no ether`);
    }
    assert.deepEqual(
      writeFunctions(lilyDealsAbi)
        .map((fn) => fn.name)
        .sort(),
      [...DOCUMENTED_DEALS_WRITES],
    );
    assert.deepEqual(
      writeFunctions(lilyTrustDealsAbi)
        .map((fn) => fn.name)
        .sort(),
      [...DOCUMENTED_TRUST_DEALS_WRITES],
    );
    assert.deepEqual(
      writeFunctions(lilyTokenAbi)
        .map((fn) => fn.name)
        .sort(),
      [...DOCUMENTED_TOKEN_WRITES],
    );
    assert.deepEqual(
      writeFunctions(moduleRegistryAbi)
        .map((fn) => fn.name)
        .sort(),
      [...DOCUMENTED_REGISTRY_WRITES],
    );
  });

  test("the deployed runtime code has no DELEGATECALL, CALLCODE or SELFDESTRUCT (no proxy, no upgrade, no kill switch) and no ORIGIN", async () => {
    for (const [name, address] of [
      ["LilyDeals", f.addresses.deals],
      ["LilyTrustDeals", f.addresses.trustDeals!],
      ["LilyToken", f.addresses.token],
      ["ModuleRegistry", f.addresses.registry!],
    ] as const) {
      const code = await f.deployer.publicClient.getCode({ address });
      assert.ok(code && code.length > 1000, `${name} is deployed`);
      const ops = opcodes(code);
      for (const [op, byte] of Object.entries(OPCODE)) assert.ok(!ops.has(byte), `${name} has no ${op}`);
      assert.ok(ops.has(0xf1) || !name.endsWith("Deals"), "the scan does see opcodes (the deals contracts CALL the token)");
      assert.ok(ops.has(0x55), `${name} writes storage (the scan sees SSTORE)`);
    }
  });

  test("the deployer, who holds the rest of the supply, cannot withdraw, move or settle anyone's escrow", async () => {
    const signed = await f.newDeal(f.policyTerms("optimistic", WINDOW));
    await f.open(signed);
    await commitResult(f.provider, { deal: signed.deal, resultDigest: right });
    leftOpen.push(signed.deal);
    const d = f.deployer;
    const b = await ledger(f);
    assert.ok(b["wallet:deployer"]! > 0n && b["escrow:deployer"] === 0n);
    await rejectsWith(withdraw(d, { amount: 1n }), "INSUFFICIENT_DEPOSIT", "EscrowInsufficientBalance");
    await rejectsWith(challenge(d, { deal: signed.deal }), "CHAIN_REVERT", "DealsNotJobCreator");
    await rejectsWith(finalize(d, { deal: signed.deal }), "CHAIN_REVERT", "DealsChallengeWindowOpen");
    await rejectsWith(claimTimeout(d, { deal: signed.deal }), "CHAIN_REVERT", "DealsNotOpen");
    await rejectsWith(
      rule(d, { deal: signed.deal, mediators: f.mediatorSet, providerCorrect: false, comparator: "exact" }),
      "CHAIN_REVERT",
      "DealsNotChallenged",
    );
    const tokenFrom = (from: Address) =>
      withLilyErrors(async () => {
        const hash = await d.walletClient!.writeContract({
          address: f.addresses.token,
          abi: lilyTokenAbi,
          functionName: "transferFrom",
          args: [from, addr(d), 1n],
        });
        await d.publicClient.waitForTransactionReceipt({ hash });
      });
    await rejectsWith(tokenFrom(f.addresses.deals), "CHAIN_REVERT", "ERC20InsufficientAllowance");
    await rejectsWith(tokenFrom(addr(f.jobCreator)), "CHAIN_REVERT", "ERC20InsufficientAllowance");
    await assertUnchanged(f, b);
  });

  test("a refused call mined anyway (gas given, no estimate) reverts on chain and changes nothing", async () => {
    const signed = await f.newDeal();
    await f.open(signed);
    leftOpen.push(signed.deal);
    const b = await ledger(f);
    for (const [who, functionName, args] of [
      [f.deployer, "withdraw", [1n]],
      [f.stranger, "commitResult", [signed.deal, right]],
      [f.jobCreator, "claimTimeout", [signed.deal]],
    ] as const) {
      const hash = await who.walletClient!.writeContract({ address: f.addresses.deals, abi: lilyDealsAbi, functionName, args, gas: 300_000n } as never);
      const receipt = await who.publicClient.waitForTransactionReceipt({ hash });
      assert.equal(receipt.status, "reverted", `${functionName} by ${addr(who)}`);
    }
    await assertUnchanged(f, b);
  });
});

describe("no tx.origin: nobody can act for a party through a contract it happens to call", () => {
  test("neither Lily's Solidity nor the OpenZeppelin code it compiles from uses tx.origin", () => {
    const entries = [
      ...readdirSync(new URL("../../contracts/", import.meta.url))
        .filter((n) => n.endsWith(".sol"))
        .map((n) => `contracts/${n}`),
      ...readdirSync(new URL("../../contracts/policies/", import.meta.url)).map((n) => `contracts/policies/${n}`),
    ];
    const sources = solidityClosure(entries);
    assert.ok(
      [...sources.keys()].some((k) => k.includes("@openzeppelin")),
      "the closure includes OpenZeppelin",
    );
    assert.ok(sources.size >= entries.length + 5);
    for (const [path, text] of sources) {
      const code = stripComments(text);
      assert.doesNotMatch(code, /\btx\s*\.\s*origin\b/, path);
      assert.doesNotMatch(code, /\borigin\s*\(\s*\)/, `${path} (inline assembly)`);
    }
  });

  let relay: Relay;
  let signed: { deal: DealMessage };
  let disputed: { deal: DealMessage };
  before(async () => {
    relay = await deployRelay(f);
    [signed, disputed] = [await f.newDeal(f.policyTerms("optimistic", WINDOW)), await f.newDeal(f.policyTerms("optimistic", WINDOW))];
    for (const s of [signed, disputed]) {
      await f.open(s as never);
      leftOpen.push(s.deal);
    }
    await commitResult(f.provider, { deal: disputed.deal, resultDigest: wrong });
    await challenge(f.jobCreator, { deal: disputed.deal });
  });
  const extra = () => ({ relay: relay.address });

  test("the provider calls a contract that commits for it: DealsNotProvider, the relay is not the provider", async () => {
    const b = await ledger(f, extra());
    const data = encodeFunctionData({ abi: lilyDealsAbi, functionName: "commitResult", args: [signed.deal, wrong] });
    const e = await rejectsWith(relay.forward(f.provider, f.addresses.deals, data), "CHAIN_REVERT", "DealsNotProvider");
    assert.equal((e.details.args as Record<string, string>).caller, relay.address);
    await assertUnchanged(f, b, extra());
    await commitResult(f.provider, { deal: signed.deal, resultDigest: right }); // directly, it is the provider
  });

  test("the job creator calls a contract that challenges or withdraws for it: refused, the relay has no deal and no escrow", async () => {
    const b = await ledger(f, extra());
    const challengeData = encodeFunctionData({ abi: lilyDealsAbi, functionName: "challenge", args: [signed.deal, `0x${"00".repeat(32)}`] });
    const e = await rejectsWith(relay.forward(f.jobCreator, f.addresses.deals, challengeData), "CHAIN_REVERT", "DealsNotJobCreator");
    assert.equal((e.details.args as Record<string, string>).caller, relay.address);
    const withdrawData = encodeFunctionData({ abi: lilyDealsAbi, functionName: "withdraw", args: [1n] });
    const w = await rejectsWith(relay.forward(f.jobCreator, f.addresses.deals, withdrawData), "INSUFFICIENT_DEPOSIT", "EscrowInsufficientBalance");
    assert.equal((w.details.args as Record<string, string>).account, relay.address);
    await assertUnchanged(f, b, extra());
  });

  test("a party calls a contract that pulls its tokens, or a mediator one that rules for it: refused, nothing moves", async () => {
    const drawn = await f.drawnMediator(disputed.deal);
    const b = await ledger(f, extra());
    const pull = encodeFunctionData({ abi: lilyTokenAbi, functionName: "transferFrom", args: [addr(f.jobCreator), relay.address, parseEther("1")] });
    const e = await rejectsWith(relay.forward(f.jobCreator, f.addresses.token, pull), "CHAIN_REVERT", "ERC20InsufficientAllowance");
    assert.equal((e.details.args as Record<string, string>).spender, relay.address);
    const ruling = encodeFunctionData({ abi: lilyDealsAbi, functionName: "rule", args: [disputed.deal, f.mediatorSet, false, 0] });
    for (const m of f.mediators) {
      const r = await rejectsWith(relay.forward(m, f.addresses.deals, ruling), "CHAIN_REVERT", "DealsNotMediator");
      assert.equal((r.details.args as Record<string, string>).caller, relay.address);
    }
    await assertUnchanged(f, b, extra());
    await rule(drawn, { deal: disputed.deal, mediators: f.mediatorSet, providerCorrect: false, comparator: "exact" }); // directly, it rules
  });
});

describe("every timeout path returns every locked token, whoever calls it", () => {
  /** Open a deal and return the ledger before it opened. */
  async function opened(terms: DealTerms) {
    const signed = await f.newDeal(terms);
    const b0 = await ledger(f);
    await f.open(signed);
    return { ...signed, b0 };
  }

  for (const [policy, terms] of [
    ["trust", () => ({})],
    ["optimistic", () => f.policyTerms("optimistic", WINDOW)],
    ["audit", () => f.policyTerms("audit", 1_000_000n)],
  ] as const) {
    test(`claimTimeout, ${policy}: the job creator gets price, reserve and the provider's collateral; totalLocked is back`, async () => {
      const d = await opened({ ...terms(), deadlineIn: 60 });
      await f.increaseTime(61);
      await claimTimeout(f.stranger, { deal: d.deal });
      assert.equal(await dealState(f.deployer, { dealId: dealId(f.addresses, d.deal) }), "timedOut");
      await assertEscrowMoved(f, d.b0, { jobCreator: d.deal.collateral, provider: -d.deal.collateral });
    });
  }

  test("claimMediationTimeout, a challenged optimistic deal: everyone gets back exactly what it locked", async () => {
    const d = await opened(f.policyTerms("optimistic", WINDOW));
    await commitResult(f.provider, { deal: d.deal, resultDigest: wrong });
    await challenge(f.jobCreator, { deal: d.deal });
    await f.drawnMediator(d.deal); // drawn, and silent
    await f.increaseTime(MEDIATION_TIMEOUT);
    await claimMediationTimeout(f.stranger, { deal: d.deal });
    await assertEscrowMoved(f, d.b0, {});
  });

  test("claimMediationTimeout, an audited deal: everyone gets back exactly what it locked", async () => {
    const d = await opened(f.policyTerms("audit", 1_000_000n));
    await commitResult(f.provider, { deal: d.deal, resultDigest: wrong });
    await f.mine(3);
    assert.equal((await finalize(f.stranger, { deal: d.deal })).outcome, "challenged");
    await f.increaseTime(MEDIATION_TIMEOUT);
    await claimMediationTimeout(f.stranger, { deal: d.deal });
    await assertEscrowMoved(f, d.b0, {});
  });

  /** A replicate(k) group of the fixture's first k providers, opened whole; each commits its result (null: silent). */
  async function group(results: (string | null)[]) {
    const members = f.providers.slice(0, results.length);
    const g = await f.newGroup(members, { deadlineIn: 120 });
    const b0 = await ledger(f);
    await f.openGroup(g);
    for (const [i, result] of results.entries()) {
      if (result) await commitResult(members[i]!, { deal: g.deals[i]!, resultDigest: digest(result) });
    }
    return { deals: g.deals, b0 };
  }

  test("claimTimeout, replicate: each silent replica gives its job creator price, reserve and its collateral; totalLocked is back", async () => {
    const { deals, b0 } = await group([null, null]);
    await f.increaseTime(121);
    for (const deal of deals) await claimTimeout(f.stranger, { deal });
    const { collateral } = deals[0]!;
    await assertEscrowMoved(f, b0, { jobCreator: 2n * collateral, provider: -collateral, provider2: -collateral });
  });

  test("claimMediationTimeout, a replica group without a majority nobody ruled on: everyone gets back exactly what it locked", async () => {
    const { deals, b0 } = await group(["A", "B", "C"]);
    assert.equal((await settleReplicas(f.stranger, { deals })).majority, false);
    await f.increaseTime(MEDIATION_TIMEOUT);
    for (const deal of deals) await claimMediationTimeout(f.stranger, { deal });
    await assertEscrowMoved(f, b0, {});
  });

  test("a replica group cannot be left half formed: two of three replicas never open alone, so nothing is locked", async () => {
    const g = await f.newGroup(f.providers.slice(0, 3), { deadlineIn: 120 });
    const b0 = await ledger(f);
    for (const r of g.replicas.slice(0, 2)) await rejectsWith(openDeal(f.stranger, r), "CHAIN_REVERT", "DealsWrongPolicy");
    await rejectsWith(openReplicas(f.stranger, { replicas: g.replicas.slice(0, 2) }), "INVALID_INPUT", "DealsReplicaCountMismatch");
    await assertUnchanged(f, b0);
  });

  test("claimTimeout then the tally, a replica group with a silent replica: the silent one pays its collateral, the rest settle", async () => {
    const { deals, b0 } = await group(["A", "A", null]);
    await f.increaseTime(121);
    await claimTimeout(f.stranger, { deal: deals[2]! });
    await settleReplicas(f.stranger, { deals });
    const { price, collateral } = deals[0]!;
    const royalty = price / 10n;
    await assertEscrowMoved(f, b0, {
      jobCreator: -2n * price + collateral,
      provider: price - royalty,
      provider2: price - royalty,
      provider3: -collateral,
      moduleCreator: 2n * royalty,
    });
  });
});

describe("nothing can be frozen", () => {
  test("every deal left unfinished above is finished by a stranger; then nothing is locked, every escrow withdraws in full, and the supply is the one minted", async () => {
    await f.increaseTime(3601); // past every deadline and window used in this file
    for (const deal of leftOpen) {
      const state = await dealState(f.deployer, { dealId: dealId(f.addresses, deal) });
      if (state === "open") await claimTimeout(f.stranger, { deal });
      else if (state === "committed") await finalize(f.stranger, { deal });
      else if (state === "challenged") await claimMediationTimeout(f.stranger, { deal });
      else assert.ok(state === "settled" || state === "slashed" || state === "timedOut", state);
    }
    const l = await assertConserved(f);
    assert.equal(l.totalLocked, 0n);
    for (const [name, amount] of Object.entries(l)) {
      if (!name.startsWith("escrow:") || amount === 0n) continue;
      const client = f.clientOf(parties(f)[name.slice("escrow:".length)]!);
      await withdraw(client, { amount });
    }
    const end = await assertConserved(f);
    assert.equal(end.dealsHolds, 0n, "every token left the contract: none was stuck");
  });
});
