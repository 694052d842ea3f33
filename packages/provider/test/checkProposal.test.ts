// What a provider signs: every term re-derived from its own offer and the job creator's, and
// what only it knows (its capacity, its limits, whether the job can run at all). Each row changes
// one thing from a proposal that passes, and the provider must decline it, naming the field.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { keccak256, toHex, zeroAddress, type Hex } from "viem";
import { DEAL_FIELDS, Policy, cidForBytes, cidForRecord, hashRecord, replicaGroupHash, type DealMessage } from "@lily/protocol";
import { checkProposal } from "../src/checkProposal.ts";
import { NOW, blockPath, domain, otherProvider, proposal, provider, startTestStore, type Proposal, type ProposalTerms, type TestStore } from "./proposals.ts";

let ts: TestStore;
let cowsay: ProposalTerms;
before(async () => {
  ts = await startTestStore();
  cowsay = { module: ts.modules.cowsay, inputs: await ts.store.putRecord({ message: "moo" }) };
});
after(() => ts?.close());

async function verdictOf(p: Proposal) {
  return checkProposal(p.ctx, p.record, p.job);
}

async function declined(p: Proposal, field: string, code?: string) {
  const v = await verdictOf(p);
  assert.equal(v.sign, false, `expected a decline naming ${field}`);
  if (v.sign) return;
  assert.equal(v.decline.field, field, v.decline.message);
  if (code) assert.equal(v.decline.code, code);
}

test("a proposal whose every term follows from the two offers, for a job that can run, is signed", async () => {
  const p = await proposal(ts, cowsay);
  const v = await verdictOf(p);
  assert.ok(v.sign, v.sign ? "" : v.decline.message);
  assert.equal(v.id, p.record.id);
  assert.equal(v.job.manifest.name, "cowsay");
});

// Change one field of the deal (its id recomputed): the provider refuses it and names it.
const changed: Record<Exclude<keyof DealMessage, "openBy">, (d: DealMessage) => unknown> = {
  jobCreator: () => otherProvider.address,
  provider: () => otherProvider.address,
  jobOffer: () => keccak256(toHex("another job offer")),
  resourceOffer: () => keccak256(toHex("another resource offer")),
  price: (d) => d.price + 1n,
  collateral: (d) => d.collateral - 1n,
  deadline: (d) => d.deadline + 1n,
  policy: () => Policy.optimistic,
  policyParam: (d) => d.policyParam + 1n,
  mediationFee: (d) => d.mediationFee + 1n,
  mediators: () => keccak256(toHex("mediators nobody accepted")),
  replicas: () => replicaGroupHash([provider.address, otherProvider.address]),
  moduleCreator: () => otherProvider.address,
  royaltyBps: () => 500,
};

test("every deal field is in the table", () => {
  assert.deepEqual([...Object.keys(changed), "openBy"].sort(), [...DEAL_FIELDS].sort());
});

for (const [field, change] of Object.entries(changed) as [keyof DealMessage, (d: DealMessage) => unknown][]) {
  test(`a proposal with another ${field} than the offers give is declined, naming deal.${field}`, async () => {
    const honest = await proposal(ts, cowsay);
    await declined(await proposal(ts, { ...cowsay, deal: { [field]: change(honest.record.deal) } }), `deal.${field}`);
  });
}

test("a proposal whose openBy is further away than the provider holds itself ready is declined, naming deal.openBy", async () => {
  await declined(await proposal(ts, { ...cowsay, openBy: BigInt(NOW + 601) }), "deal.openBy");
});

test("a proposal whose openBy has passed is declined, naming deal.openBy", async () => {
  await declined(await proposal(ts, { ...cowsay, openBy: BigInt(NOW - 1) }), "deal.openBy");
});

test("a record whose id is not its terms' digest is declined (the provider would follow another deal on chain)", async () => {
  const p = await proposal(ts, cowsay);
  await declined({ ...p, record: { ...p.record, id: keccak256(toHex("elsewhere")) } }, "id");
});

test("a proposal against a resource offer of this provider that has expired is declined", async () => {
  await declined(await proposal(ts, { ...cowsay, resource: { expiresAt: BigInt(NOW) } }), "deal.resourceOffer");
});

test("a job offer signature with v = 0, which the contract refuses, is declined as a bad signature", async () => {
  const p = await proposal(ts, cowsay);
  const v = parseInt(p.job.signature.slice(-2), 16);
  const lowV = `${p.job.signature.slice(0, -2)}${(v - 27).toString(16).padStart(2, "0")}` as Hex;
  await declined({ ...p, job: { ...p.job, signature: lowV } }, "jobOffer.signature", "BAD_SIGNATURE");
});

test("a job offer signed by someone else than its job creator is declined as a bad signature", async () => {
  const p = await proposal(ts, cowsay);
  const other = await proposal(ts, { ...cowsay, job: { nonce: 2n } });
  await declined({ ...p, job: { ...p.job, signature: other.job.signature } }, "jobOffer.signature", "BAD_SIGNATURE");
});

test("a module the provider does not allow is declined with MODULE_NOT_ALLOWED", async () => {
  await declined(await proposal(ts, { ...cowsay, resource: { modules: [ts.modules.primes] } }), "module", "MODULE_NOT_ALLOWED");
});

test("a job needing more VRAM than the resource offer has is declined, naming jobOffer.vramMb", async () => {
  await declined(await proposal(ts, { ...cowsay, job: { gpu: 0, vramMb: 1 } }), "jobOffer.vramMb");
});

for (const [dimension, held] of [
  ["cpu", { cpu: 4, memoryMb: 0, gpu: 0, vramMb: 0 }],
  ["memoryMb", { cpu: 0, memoryMb: 4096 - 63, gpu: 0, vramMb: 0 }],
] as const) {
  test(`a job over the ${dimension} the provider's other deals leave free is declined as busy (it may free soon), naming jobOffer.${dimension}`, async () => {
    const p = await proposal(ts, { ...cowsay, ctx: { held } });
    await declined(p, `jobOffer.${dimension}`);
    const v = await verdictOf(p);
    assert.equal(!v.sign && v.busy, true, "only capacity in use is short: the provider looks again before declining");
  });
}

test("a job over what the resource offer has at all is declined, and not as busy: waiting cannot help", async () => {
  const v = await verdictOf(await proposal(ts, { ...cowsay, job: { gpu: 0, vramMb: 1 } }));
  assert.equal(v.sign, false);
  assert.equal(!v.sign && v.busy, undefined);
});

test("a job that fits exactly in what is left is signed", async () => {
  const v = await verdictOf(await proposal(ts, { ...cowsay, ctx: { held: { cpu: 3, memoryMb: 4096 - 64, gpu: 0, vramMb: 0 } } }));
  assert.ok(v.sign);
});

test("a job longer than maxJobSeconds is declined, naming jobOffer.timeoutSeconds", async () => {
  await declined(await proposal(ts, { ...cowsay, job: { timeoutSeconds: 3601n } }), "jobOffer.timeoutSeconds");
});

test("a file input no store holds is declined before signing, naming inputs.<name>", async () => {
  const missing = cidForBytes(new TextEncoder().encode("a file nobody stored"));
  const inputs = await ts.store.putRecord({ file: missing });
  await declined(await proposal(ts, { module: ts.modules.wordcount, inputs }), "inputs.file", "INVALID_INPUT");
});

test("an inputs record that vanished from the store is declined before signing, naming inputs", async () => {
  const inputs = await ts.store.putRecord({ message: "here today" });
  rmSync(blockPath(ts.dataDir, inputs));
  await declined(await proposal(ts, { module: ts.modules.cowsay, inputs }), "inputs", "INVALID_INPUT");
});

test("inputs the module's schema refuses are declined before signing, naming the input", async () => {
  const inputs = await ts.store.putRecord({ message: "x".repeat(1001) });
  await declined(await proposal(ts, { module: ts.modules.cowsay, inputs }), "inputs.message", "INVALID_INPUT");
});

for (const [what, module] of [
  ["a module no store holds", () => cidForRecord({ name: "nowhere" }).cid],
  ["a module CID that is not a module manifest", () => cowsay.inputs],
] as const) {
  test(`${what} is declined, naming module`, async () => {
    await declined(await proposal(ts, { module: module(), inputs: cowsay.inputs, resource: { modules: [module()] } }), "module", "UNKNOWN_MODULE");
  });
}

test("a royalty that is not the module's own is declined, naming deal.royaltyBps", async () => {
  await declined(await proposal(ts, { ...cowsay, job: { moduleCreator: otherProvider.address, royaltyBps: 500 } }), "deal.royaltyBps");
});

// Replica groups: the group comes from the solver's record and is signed into the deal.
const replicate = { policy: Policy.replicate, policyParam: 2n };

test("a replica whose group names itself and k distinct providers is signed", async () => {
  const v = await verdictOf(await proposal(ts, { ...cowsay, job: replicate, group: [provider.address, otherProvider.address] }));
  assert.ok(v.sign, v.sign ? "" : v.decline.message);
});

for (const [what, group] of [
  ["fewer than k providers", () => [provider.address]],
  ["a provider twice", () => [provider.address, provider.address]],
  ["no place for this provider", () => [otherProvider.address, zeroAddress]],
] as const) {
  test(`a replica whose group has ${what} is declined, naming deal.replicas`, async () => {
    const honest = await proposal(ts, { ...cowsay, job: replicate, group: [provider.address, otherProvider.address] });
    const p = { ...honest, record: { ...honest.record, group: [...group()] } };
    await declined(p, "deal.replicas");
  });
}

test("the deal id checked is the EIP-712 digest under the provider's domain", async () => {
  const p = await proposal(ts, cowsay);
  assert.equal(p.record.id, hashRecord(domain, "Deal", p.record.deal));
});
