// End to end through one provider against a real chain, store and solver: many jobs signed at
// once open and commit in fewer transactions than jobs (read back from the chain: every
// transaction the provider sent in the test's blocks, by function), and each deal is paid
// exactly once (one DealSettled per deal, escrow to the wei).
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeFunctionData, type Hex } from "viem";
import { getDealEvents, lilyDealsAbi } from "@lily/chain";
import type { DealRecord } from "@lily/protocol";
import { PRICE, eventually, startNetwork } from "./network.ts";

const JOBS = 10;

test(`${JOBS} jobs signed at once through one provider open and commit in fewer transactions than jobs, each paid exactly once`, async (t) => {
  const net = await startNetwork();
  t.after(() => net.stop());
  const p = net.providers[0]!;
  const me = p.account!.address.toLowerCase();
  // Room for every job at once (each asks 1 CPU), so that they are ready together.
  const provider = await net.startProvider(p, { opts: { resources: { cpu: JOBS, memoryMb: 64 * JOBS, gpu: 0, vramMb: 0 } } });
  const before = await net.ledger();
  const fromBlock = (await net.deployer.publicClient.getBlockNumber()) + 1n;

  const jobs = await Promise.all(Array.from({ length: JOBS }, () => net.postJob()));
  let seen: DealRecord[] = [];
  const deals: DealRecord[] = await eventually(
    "the provider's signature on every deal",
    async () => {
      seen = (await Promise.all(jobs.map((j) => net.dealsOf(j.id)))).flat();
      return seen.length === JOBS && seen.every((d) => d.providerSignature) ? seen : undefined;
    },
    60_000,
  ).catch((e) => {
    const mine = provider.deals();
    throw new Error(
      `${e.message}; the solver proposed ${seen.length} (${seen.map((d) => d.status).join(", ")}); the provider holds ${mine.map((d) => d.status).join(", ")}`,
    );
  });
  await Promise.all(deals.map((d) => net.signAsJobCreator(d)));
  for (const d of deals)
    await eventually(`deal ${d.id.slice(0, 10)} settled`, () => provider.deals().find((l) => l.id === d.id.toLowerCase())?.status === "settled", 60_000);

  // Every transaction the provider sent since the jobs were posted, by the function it called.
  const toBlock = await net.deployer.publicClient.getBlockNumber();
  const calls: string[] = [];
  for (let b = fromBlock; b <= toBlock; b++) {
    const block = await net.deployer.publicClient.getBlock({ blockNumber: b, includeTransactions: true });
    for (const tx of block.transactions) {
      if (tx.from.toLowerCase() !== me) continue;
      calls.push(decodeFunctionData({ abi: lilyDealsAbi, data: tx.input as Hex }).functionName);
    }
  }
  const count = (name: string) => calls.filter((c) => c === name).length;
  t.diagnostic(`provider transactions for ${JOBS} jobs: ${calls.length} (${[...new Set(calls)].map((c) => `${c} ×${count(c)}`).join(", ")})`);
  assert.ok(calls.length < 2 * JOBS, `fewer transactions than the ${2 * JOBS} of one opening and one commit per job: ${calls.join(", ")}`);
  assert.ok(count("openDeals") + count("commitResults") >= 1, "at least one transaction carried several deals");
  assert.ok(
    calls.every((c) => ["openDeal", "openDeals", "commitResult", "commitResults"].includes(c)),
    `only openings and commits: ${calls.join(", ")}`,
  );

  // Each deal paid exactly once, and the money adds up to the wei.
  for (const d of deals) {
    const events = await getDealEvents(net.deployer, { dealId: d.id });
    assert.equal(events.filter((e) => e.name === "DealSettled").length, 1, `deal ${d.id} settled once`);
    assert.equal(events.filter((e) => e.name === "DealOpened").length, 1, `deal ${d.id} opened once`);
  }
  const after = await net.ledger();
  assert.equal(after.jobCreator, before.jobCreator - BigInt(JOBS) * PRICE);
  assert.equal(after.providers[0], before.providers[0]! + BigInt(JOBS) * PRICE);
  assert.equal(after.locked, 0n);
});
