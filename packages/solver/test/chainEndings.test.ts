// What the chain says about a deal, as pure functions: its events move the solver's record (the
// chain outranks any report) and chain time ends what can no longer happen.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Address, Hex } from "viem";
import { cidForBytes, type DealRecord, type DealStatus } from "@lily/protocol";
import { applyFact, timeEndings, NO_RESULT, type ChainFact, type FollowedDeal } from "../src/index.ts";

const hex = (n: number) => `0x${n.toString(16).padStart(64, "0")}` as Hex;
const addr = (n: number) => `0x${n.toString(16).padStart(40, "0")}` as Address;
const wasm = cidForBytes(new TextEncoder().encode("primes.wasm"));
const TX = hex(0x7e);
const OPEN_BY = 1000n;
const DEADLINE = 1300n;

const deal = (status: DealStatus, o: Partial<DealRecord> = {}, policy = 0): DealRecord => ({
  id: hex(1),
  jobOfferId: hex(0x10),
  resourceOfferId: hex(0x20),
  module: wasm,
  inputs: wasm,
  status,
  updatedAt: 1,
  deal: {
    jobCreator: addr(0xc1),
    provider: addr(0xa1),
    jobOffer: hex(0x10),
    resourceOffer: hex(0x20),
    price: 5n,
    collateral: 5n,
    openBy: OPEN_BY,
    deadline: DEADLINE,
    policy,
    policyParam: policy === 2 ? 2n : 0n,
    mediationFee: 0n,
    mediators: hex(0),
    replicas: hex(0),
    moduleCreator: addr(0),
    royaltyBps: 0,
  },
  ...o,
});
const followed = (d: DealRecord, onChain?: ChainFact): FollowedDeal => ({ deal: d, ...(onChain && { onChain }) });

const factCases: { says: string; deal: FollowedDeal; fact: ChainFact; status?: DealStatus; ends?: true; nothing?: true }[] = [
  { says: "a signed deal the chain shows opened is opened", deal: followed(deal("signed")), fact: "opened", status: "opened" },
  { says: "a proposed deal the parties opened without the solver is opened", deal: followed(deal("proposed")), fact: "opened", status: "opened" },
  {
    says: "a deal dropped before it could open (a cancel) that opened anyway is live again",
    deal: followed(deal("rejected")),
    fact: "opened",
    status: "opened",
  },
  { says: "a running deal seen opened late stays running", deal: followed(deal("running")), fact: "opened" },
  { says: "a deal whose provider never reported is committed by the chain", deal: followed(deal("opened"), "opened"), fact: "committed", status: "committed" },
  { says: "even one the solver never saw open", deal: followed(deal("signed")), fact: "committed", status: "committed" },
  { says: "an opened deal that timed out ends, and its provider is excluded", deal: followed(deal("running"), "opened"), fact: "timed-out", ends: true },
  {
    says: "a result the provider only posted to the solver does not survive a timeout on chain",
    deal: followed(deal("committed"), "opened"),
    fact: "timed-out",
    ends: true,
  },
  { says: "a timeout the solver already called from chain time changes nothing else", deal: followed(deal("timed-out"), "opened"), fact: "timed-out" },
  { says: "an older fact never moves a deal back", deal: followed(deal("committed"), "committed"), fact: "opened", nothing: true },
  { says: "a fact seen twice is applied once", deal: followed(deal("opened"), "opened"), fact: "opened", nothing: true },
];

for (const c of factCases) {
  test(`chain fact: ${c.says}`, () => {
    const update = applyFact(c.deal, { fact: c.fact, txHash: TX });
    if (c.nothing) return assert.equal(update, undefined);
    assert.equal(update!.onChain, c.fact);
    assert.equal(update!.status, c.status);
    if (c.ends)
      assert.deepEqual([update!.ending?.status, update!.ending?.error, update!.ending?.exclude], ["timed-out", NO_RESULT, `timed out on deal ${hex(1)}`]);
    else assert.equal(update!.ending, undefined);
    if (c.fact === "opened") assert.equal(update!.openTx, TX);
  });
}

const sig = `0x${"11".repeat(65)}` as Hex;
const timeCases: {
  says: string;
  deal: FollowedDeal;
  now: bigint;
  error?: string;
  exclude?: RegExp;
  abandon?: true;
  deactivate?: true;
  status?: "rejected" | "timed-out";
}[] = [
  { says: "a proposal is open until its openBy has passed", deal: followed(deal("proposed")), now: OPEN_BY },
  {
    says: "a proposal the job creator did not sign abandons its job offer",
    deal: followed(deal("proposed", { providerSignature: sig })),
    now: OPEN_BY + 1n,
    status: "rejected",
    error: "not signed by the job creator before its openBy",
    abandon: true,
  },
  {
    says: "a proposal its provider signed too late for the job creator to sign blames no one",
    deal: followed(deal("proposed", { providerSignature: sig, updatedAt: Number(OPEN_BY) * 1000 - 500 })),
    now: OPEN_BY + 1n,
    status: "rejected",
    error: "not signed before its openBy: the provider signed too late for the job creator to",
  },
  {
    says: "a proposal the provider did not sign loses it the job and its offer",
    deal: followed(deal("proposed", { jobCreatorSignature: sig })),
    now: OPEN_BY + 1n,
    status: "rejected",
    error: "not signed by the provider before its openBy",
    exclude: /^did not sign deal 0x0+1 before its openBy$/,
    deactivate: true,
  },
  {
    says: "a proposal neither signed blames only the provider: the job creator signs last",
    deal: followed(deal("proposed")),
    now: OPEN_BY + 1n,
    status: "rejected",
    error: "not signed by the provider before its openBy",
    exclude: /^did not sign/,
    deactivate: true,
  },
  {
    says: "a signed deal nobody opened passes over its provider, who opens deals",
    deal: followed(deal("signed")),
    now: OPEN_BY + 1n,
    status: "rejected",
    error: "not opened by its openBy",
    exclude: /^did not open deal 0x0+1 by its openBy$/,
  },
  {
    says: "a signed replica nobody opened blames no one: any of the group may open it",
    deal: followed(deal("signed", {}, 2)),
    now: OPEN_BY + 1n,
    status: "rejected",
    error: "not opened by its openBy",
  },
  {
    says: "a deal its provider reported opened, that the chain never opened, never opened",
    deal: followed(deal("running")),
    now: OPEN_BY + 1n,
    status: "rejected",
    error: "not opened by its openBy",
    exclude: /^did not open/,
  },
  { says: "an opened deal has until its deadline second to commit", deal: followed(deal("running"), "opened"), now: DEADLINE },
  {
    says: "an opened deal with no result past its deadline timed out",
    deal: followed(deal("running"), "opened"),
    now: DEADLINE + 1n,
    status: "timed-out",
    error: NO_RESULT,
    exclude: /^timed out on deal/,
  },
  { says: "a committed deal never times out", deal: followed(deal("committed"), "committed"), now: DEADLINE + 1000n },
  { says: "a deal already ended is not ended again", deal: followed(deal("rejected")), now: DEADLINE + 1000n },
];

for (const c of timeCases) {
  test(`chain time: ${c.says}`, () => {
    const endings = timeEndings([c.deal], c.now);
    if (!c.status) return assert.deepEqual(endings, []);
    assert.equal(endings.length, 1);
    const [e] = endings;
    assert.deepEqual([e!.status, e!.error, e!.abandon, e!.deactivate], [c.status, c.error, c.abandon, c.deactivate]);
    if (c.exclude) assert.match(e!.exclude ?? "(none)", c.exclude);
    else assert.equal(e!.exclude, undefined);
  });
}
