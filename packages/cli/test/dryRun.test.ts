// `lily run --dry-run` against a real network served from this process (anvil with Lily
// deployed, a store holding the built modules, a solver with three providers' offers): for each provider the
// filter that would reject the job and why, the candidates, the clearing price and what would
// match, exit 0, and nothing signed, posted or locked.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { keccak256, parseEther, toHex, type LocalAccount } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { cidForBytes, signRecord, type ResourceOffer } from "@lily/protocol";
import { startLocalNetwork, type LocalNetwork } from "../../../test/support/localNetwork.ts";
import { roleAccount } from "../src/keys.ts";
import { lilyAsync, tempHome } from "./lilyProcess.ts";

const key = (name: string) => privateKeyToAccount(keccak256(toHex(`lily cli dry run: ${name}`)));
const [cheap, wrongModule, dear] = [key("cheap"), key("wrong module"), key("dear")];
const mediator = key("mediator").address;
let net: LocalNetwork;
let home: string;

before(async () => {
  net = await startLocalNetwork("cli-dry-run", { blockTimeSeconds: 1 });
  // The job creator's key, as `lily run` will load it from this home; funded so the solver backs its offers.
  home = tempHome();
  const jobCreator = roleAccount(home, "job-creator");
  await net.fund([cheap, wrongModule, dear, jobCreator].map(net.clientFor), { eth: parseEther("1"), tokens: parseEther("100"), deposit: parseEther("100") });

  const module = net.modules.cowsay;
  const offers: [LocalAccount, Partial<ResourceOffer>][] = [
    [cheap, { price: parseEther("3"), collateral: parseEther("5") }],
    [wrongModule, { price: parseEther("1"), modules: [cidForBytes(new TextEncoder().encode("another module"))] }],
    [dear, { price: parseEther("12"), collateral: parseEther("50") }],
  ];
  for (const [p, o] of offers) {
    const offer: ResourceOffer = {
      provider: p.address,
      cpu: 4,
      memoryMb: 4096,
      gpu: 0,
      vramMb: 0,
      price: 0n,
      collateral: parseEther("5"),
      modules: [module],
      mediators: [mediator],
      expiresAt: BigInt(Math.floor(Date.now() / 1000) + 3600),
      nonce: 1n,
      ...o,
    };
    await net.solver.postResourceOffer({ body: { offer, signature: await signRecord(p, net.domain, "ResourceOffer", offer) } });
  }
  writeFileSync(join(home, "network.json"), JSON.stringify({ ...net.endpoints, modules: { "cowsay@1.0.0": module }, mediators: [mediator] }));
});
after(() => net?.stop());

const line = (label: string, rest: string) => new RegExp(`^${label.padEnd(12)}${rest}$`, "m");
const nothingPosted = async () => assert.deepEqual((await net.solver.listDeals({})).deals, [], "no deal proposed: nothing was posted");

test("lily run --dry-run names, for each provider, the filter that rejects the job and why, and what would match", async () => {
  const r = await lilyAsync(home, "run", "cowsay@1.0.0", "-i", "message=hi", "--max-price", "10", "--policy", "audit:10%", "--dry-run");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^dry run: nothing was signed, posted or locked$/m);
  assert.match(r.stdout, line("provider", `${cheap.address}  rejects it: policy: .*cheating would pay.*`));
  assert.match(r.stdout, line("provider", `${wrongModule.address}  rejects it: module: .*`));
  assert.match(r.stdout, line("provider", `${dear.address}  rejects it: price: .*`));
  assert.match(r.stdout, line("matchable", "no: .*"));
  // 3 LILY at 5 LILY collateral needs audit:60%; the dear provider's 50 LILY backs 12 LILY at 24%, above max price.
  assert.match(r.stdout, line("would match", "--policy audit:60%"));
  assert.match(r.stdout, line("deposit", "100 LILY free, the job needs 11 LILY"));
  await nothingPosted();
});

test("lily run --dry-run lists the candidates and the clearing price when the job would match now", async () => {
  const r = await lilyAsync(home, "run", "cowsay@1.0.0", "-i", "message=hi", "--max-price", "10", "--dry-run");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, line("provider", `${cheap.address}  would take it at 3 LILY \\(collateral 5 LILY\\)`));
  assert.match(r.stdout, line("clearing", "3 LILY"));
  assert.match(r.stdout, line("matchable", "yes: the solver would propose a deal now"));
  assert.doesNotMatch(r.stdout, /would match/);
  await nothingPosted();
});

test("lily run --dry-run --json prints the explanation as one JSON document", async () => {
  const r = await lilyAsync(home, "run", "cowsay@1.0.0", "-i", "message=hi", "--max-price", "2", "--dry-run", "--json");
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { matchable: boolean; clearingPrice: string; hints: string[]; candidates: unknown[]; rejections: Record<string, string> };
  assert.deepEqual([doc.matchable, doc.clearingPrice, doc.hints, doc.candidates], [false, parseEther("3").toString(), ["--max-price 3"], []]);
  assert.match(doc.rejections[cheap.address] ?? "", /^price: /);
  await nothingPosted();
});
