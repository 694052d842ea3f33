// The provider as a daemon against a real chain, store and solver: it runs jobs side by side up to
// its capacity and never beyond (also when a restart left it holding more deals than it now has
// room for), and its /metrics, scraped over HTTP and read as Prometheus text, counts the jobs,
// their earnings and run times from its database, so the counters survive a restart.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Hex } from "viem";
import { dealState } from "@lily/chain";
import type { DealRecord } from "@lily/protocol";
import type { RunningProvider } from "../src/provider.ts";
import { honestStrategy, type ProviderStrategy } from "../src/strategy.ts";
import { PRICE, eventually, startNetwork, type Network } from "./network.ts";
import { parsePrometheus } from "./promParse.ts";

async function network(t: TestContext): Promise<Network> {
  const net = await startNetwork();
  t.after(() => net.stop());
  return net;
}

/** The honest strategy behind a door the test opens: counts the jobs inside at once, and the most ever. */
function heldDoor() {
  let inside = 0;
  let most = 0;
  let open = false;
  const waiting: (() => void)[] = [];
  const strategy: ProviderStrategy = {
    async produceResult(job, ctx) {
      inside++;
      most = Math.max(most, inside);
      try {
        if (!open) await new Promise<void>((r) => waiting.push(r));
        return await honestStrategy.produceResult(job, ctx);
      } finally {
        inside--;
      }
    },
  };
  return {
    strategy,
    inside: () => inside,
    most: () => most,
    open() {
      open = true;
      for (const r of waiting.splice(0)) r();
    },
  };
}

async function scrape(p: RunningProvider) {
  const res = await fetch(`${p.metricsUrl}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  return parsePrometheus(await res.text());
}

/** Each job's deal once its provider signed it, signed by the job creator too. */
async function signWhenProposed(net: Network, jobIds: Hex[]): Promise<DealRecord[]> {
  const deals: DealRecord[] = [];
  for (const id of jobIds) {
    const deal = await eventually(`a signed deal for job ${id.slice(0, 10)}`, async () => (await net.dealsOf(id)).find((d) => d.providerSignature));
    await net.signAsJobCreator(deal);
    deals.push(deal);
  }
  return deals;
}

const settled = (p: RunningProvider, n: number) => eventually(`${n} deals settled`, () => p.deals().filter((d) => d.status === "settled").length === n, 60_000);

test("a provider runs jobs side by side up to its capacity and never beyond, and /metrics counts them from its database across a restart", async (t) => {
  const net = await network(t);
  const dir = join(net.dir, "daemon-provider");
  const door = heldDoor();
  const resources = { cpu: 2, memoryMb: 4096, gpu: 0, vramMb: 0 };
  const provider = await net.startProvider(net.providers[0]!, { dir, opts: { resources, metricsPort: 0 }, deps: { strategy: door.strategy } });
  assert.match(provider.metricsUrl ?? "", /^http:\/\/127\.0\.0\.1:\d+$/);

  const jobs = [];
  for (let i = 0; i < 4; i++) jobs.push(await net.postJob({ inputs: await net.store.putRecord({ message: `job ${i}` }) }));
  // The two oldest fit; both run at once, held at the door.
  await signWhenProposed(
    net,
    jobs.slice(0, 2).map((j) => j.id),
  );
  await eventually("two jobs running", () => door.inside() === 2);
  const busy = await scrape(provider);
  assert.equal(busy.value("lily_provider_running_jobs"), 2);
  assert.equal(busy.value("lily_provider_capacity", { resource: "cpu" }), 2);
  assert.equal(busy.value("lily_provider_capacity_in_use", { resource: "cpu" }), 2);
  assert.equal(provider.status().running?.jobs, 2);

  door.open();
  await signWhenProposed(
    net,
    jobs.slice(2).map((j) => j.id),
  );
  await settled(provider, 4);
  assert.equal(door.most(), 2, "jobs ran side by side, and never more than the capacity at once");

  const done = await scrape(provider);
  assert.equal(done.value("lily_provider_running_jobs"), 0);
  assert.equal(done.value("lily_provider_jobs_total", { module: "cowsay@1.0.0", outcome: "settled" }), 4);
  assert.equal(done.value("lily_provider_earnings_wei_total"), Number(4n * PRICE));
  assert.equal(provider.status().earningsWei, 4n * PRICE);
  assert.equal(done.value("lily_provider_executor_duration_seconds_count", { executor: "wasm" }), 4);
  assert.equal(done.value("lily_provider_slashes_total"), 0);

  // A restarted provider reads the same counters from its database.
  await provider.close();
  const again = await net.startProvider(net.providers[0]!, { dir, opts: { resources, metricsPort: 0 } });
  const after = await scrape(again);
  for (const name of ["lily_provider_earnings_wei_total", "lily_provider_slashes_total", "lily_provider_slashed_collateral_wei_total"]) {
    assert.equal(after.value(name), done.value(name), name);
  }
  assert.equal(after.value("lily_provider_jobs_total", { module: "cowsay@1.0.0", outcome: "settled" }), 4);
  assert.equal(after.value("lily_provider_executor_duration_seconds_count", { executor: "wasm" }), 4);
});

test("a provider restarted with less capacity than its opened deals hold runs them one by one, never beyond it", async (t) => {
  const net = await network(t);
  const dir = join(net.dir, "shrunk-provider");
  const first = await net.startProvider(net.providers[0]!, { dir, opts: { resources: { cpu: 3, memoryMb: 4096, gpu: 0, vramMb: 0 } } });
  const jobs = [];
  for (let i = 0; i < 3; i++) jobs.push(await net.postJob({ inputs: await net.store.putRecord({ message: `shrunk ${i}` }) }));
  const deals = await Promise.all(
    jobs.map((j) => eventually("the provider's signature", async () => (await net.dealsOf(j.id)).find((d) => d.providerSignature))),
  );
  await first.close();
  for (const d of deals) await net.signAsJobCreator(d);

  // Back with one CPU: it opens all three deals it signed, and runs one at a time.
  const door = heldDoor();
  const shrunk = await net.startProvider(net.providers[0]!, {
    dir,
    opts: { resources: { cpu: 1, memoryMb: 4096, gpu: 0, vramMb: 0 } },
    deps: { strategy: door.strategy },
  });
  await eventually("all three deals open on chain", async () => {
    const states = await Promise.all(deals.map((d) => dealState(net.deployer, { dealId: d.id })));
    return states.every((s) => s === "open");
  });
  await eventually("one job running", () => door.inside() === 1);
  // Each opening tried to run its job at once: the two that did not fit were turned away.
  await eventually("every opened deal recorded", () => shrunk.deals().filter((d) => d.status === "opened").length === 3);
  const status = shrunk.status();
  assert.deepEqual([status.running?.jobs, status.running?.resources.cpu, status.inUse.cpu, status.capacity.cpu], [1, 1, 3, 1]);

  door.open();
  await settled(shrunk, 3);
  assert.equal(door.most(), 1, "never more than its one CPU's worth at once");
});
