// `lily provider` as a real process on a real network (anvil with Lily deployed, a store with the
// built modules, a solver), started with a config file, and `lily provider status` reading it: its
// online state, capacity, offers at the config's prices, the job it ran and what it earned; then
// the same jobs and earnings from its database once it has stopped.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseEther } from "viem";
import { keccak256, toHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { signRecord, type JobOffer } from "@lily/protocol";
import { startLocalNetwork, type LocalNetwork } from "../../../test/support/localNetwork.ts";
import { roleAccount } from "../src/keys.ts";
import { lilyAsync, tempHome } from "./lilyProcess.ts";
import { PLAIN_JOB_TERMS } from "../../../test/support/jobOffers.ts";

const LILY = fileURLToPath(new URL("../bin/lily.js", import.meta.url));
const jobCreator = privateKeyToAccount(keccak256(toHex("lily cli provider daemon: job creator")));
let net: LocalNetwork;
let home: string;
let child: ChildProcess | undefined;

before(async () => {
  net = await startLocalNetwork("cli-provider", { blockTimeSeconds: 1, solver: { sweepIntervalMs: 200 } });
  home = tempHome();
  // The provider's key, as `lily provider` will load it from this home; funded so its deals open.
  const provider = roleAccount(home, "provider");
  await net.fund([provider, jobCreator].map(net.clientFor), { eth: parseEther("1"), tokens: parseEther("100"), deposit: parseEther("100") });
  writeFileSync(join(home, "network.json"), JSON.stringify({ ...net.endpoints, modules: net.modules, mediators: [] }));
});
after(async () => {
  child?.kill("SIGTERM");
  await net?.stop();
});

/** Start `lily provider` and wait for its ready line; everything it printed so far. */
function startProvider(...args: string[]): Promise<string> {
  const p = spawn(process.execPath, [LILY, "--home", home, "provider", ...args], { env: { ...process.env, LILY_LOG_LEVEL: "warn" } });
  child = p;
  let stdout = "";
  let stderr = "";
  p.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    p.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
      if (/provider ready/.test(stdout)) resolve(stdout);
    });
    p.once("exit", (code) => reject(new Error(`lily provider exited (${code}) before it was ready:\n${stdout}\n${stderr}`)));
  });
}

async function status(...args: string[]) {
  const r = await lilyAsync(home, "provider", "status", ...args, "--json");
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

async function until<T>(what: string, read: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 600; i++) {
    const v = await read();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: not seen`);
}

test("lily provider runs from a config file, and lily provider status shows it online, its offers, its job and its earnings, then offline from its database", async () => {
  const config = join(home, "provider.json");
  // Every module it offers at 2 LILY (by name over the default 3), so one resource offer.
  writeFileSync(config, JSON.stringify({ price: "3", prices: { cowsay: "2", primes: "2" }, modules: { deny: ["wordcount"] }, maxConcurrentJobs: 2 }));
  const printed = await startProvider("--config", config, "--cpu", "2", "--memory-mb", "2048", "--poll-ms", "200");
  assert.match(printed, /^provider offers 2 CPU, 2048 MiB, 0 GPU \(0 MiB VRAM\)/m);
  assert.match(printed, /^ {2}2 modules at 2 LILY per job$/m);
  assert.match(printed, /^ {2}not offered: wordcount@1\.0\.0 is denied \(wordcount\)$/m);
  assert.match(printed, /^metrics on http:\/\/127\.0\.0\.1:\d+\/metrics/m);
  assert.ok(existsSync(join(home, "data", "provider", "endpoint.json")), "it records where status is served");

  const online = await status();
  assert.equal(online.online, true);
  assert.deepEqual(online.capacity, { cpu: 2, memoryMb: 2048, gpu: 0, vramMb: 0 });
  assert.equal(online.maxConcurrentJobs, 2);
  assert.deepEqual(
    online.offers.map((o: { price: string; modules: number }) => [o.price, o.modules]),
    [[parseEther("2").toString(), 2]],
  );

  // A cowsay job at the provider's cowsay price, signed by the job creator once the provider has.
  const offer: JobOffer = {
    jobCreator: jobCreator.address,
    module: net.modules.cowsay,
    inputs: await net.store.putRecord({ message: "status" }),
    cpu: 1,
    memoryMb: 64,
    ...PLAIN_JOB_TERMS,
    maxPrice: parseEther("2"),
    timeoutSeconds: 60n,
    expiresAt: BigInt(Math.floor(Date.now() / 1000) + 600),
    nonce: 1n,
  };
  const job = await net.solver.postJobOffer({ body: { offer, signature: await signRecord(jobCreator, net.domain, "JobOffer", offer) } });
  const deal = await until("the provider's signature", async () => {
    const ids = (await net.solver.getJobOffer({ params: { id: job.id } })).dealIds;
    const deals = await Promise.all(ids.map((id) => net.solver.getDeal({ params: { id } })));
    return deals.find((d) => d.providerSignature);
  });
  assert.equal(deal.deal.price, parseEther("2"));
  await net.solver.signDeal({
    params: { id: deal.id },
    body: { signer: jobCreator.address, signature: await signRecord(jobCreator, net.domain, "Deal", deal.deal) },
  });
  const paid = await until("the job settled", async () => {
    const s = await status();
    return s.jobs.settled === 1 ? s : undefined;
  });
  assert.equal(paid.earningsWei, parseEther("2").toString());
  assert.equal(paid.slashes, 0);

  const human = await lilyAsync(home, "provider", "status");
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /^provider {3}0x[0-9a-fA-F]{40} {2}online since /m);
  assert.match(human.stdout, /^jobs {7}settled 1, slashed 0, failed 0, unwound 0, declined 0, expired 0, in progress 0$/m);
  assert.match(human.stdout, /^earnings {3}2 LILY$/m);

  // Stopped, it is offline; its jobs and earnings are still read, from its database.
  const exited = new Promise((r) => child!.once("exit", r));
  child!.kill("SIGTERM");
  await exited;
  child = undefined;
  assert.ok(!existsSync(join(home, "data", "provider", "endpoint.json")), "a stopped provider leaves no endpoint behind");
  const offline = await status();
  assert.equal(offline.online, false);
  assert.equal(offline.jobs.settled, 1);
  assert.equal(offline.earningsWei, parseEther("2").toString());
  assert.equal(offline.address, online.address);
});
