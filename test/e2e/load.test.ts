// Under load and through crashes, every job ends well. Fifty job creators, each its own account
// and SDK client, submit at once to one devnet: every job completes (no nonce race, no capacity
// lost), each job creator is charged exactly its price, and afterwards nothing is locked and no
// provider's capacity is still held. Then fifty more, with the solver and then a provider killed
// (SIGKILL) and restarted mid-flight: every job completes or is refunded, and the capacity comes
// back. Time is bounded by the jobs themselves, never asserted.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { parseEther } from "viem";
import { escrowBalance, totalLocked, createLilyClient } from "@lily/chain";
import { isLilyError, type DealRecord } from "@lily/protocol";
import { startDevnet, LILY, type Devnet } from "./lilyProcess.ts";
import { fundJobCreators, type FundedJobCreator } from "./jobCreators.ts";

/** Job creators at once; the load is 50, and CI keeps the concurrency. */
const CONCURRENCY = 50;
const MAX_PRICE = parseEther("10");
/** Queueing for 4 slots (2 providers × 2 CPUs) is not a failure: give the match time. */
const SUBMIT = { matchTimeoutMs: 180_000 };

let net: Devnet;
let creators: FundedJobCreator[];
const started: ChildProcess[] = [];
before(async () => {
  net = await startDevnet(["--sign-window", "10"]);
  creators = await fundJobCreators(net, CONCURRENCY, 3n * MAX_PRICE, SUBMIT);
});
after(async () => {
  for (const p of started) p.kill("SIGTERM");
  await net?.stop();
});

interface Outcome {
  ok: boolean;
  price: bigint;
  code?: string;
  message?: string;
}

/** One cowsay job per job creator, all at once; never throws: a failure is an outcome. */
function runAll(tag: string, onProgress?: (stage: string) => void): Promise<Outcome[]> {
  return Promise.all(
    creators.map(async (c, i) => {
      try {
        const r = await c.sdk.run({
          module: "cowsay@1.0.0",
          inputs: { message: `${tag} ${i}` },
          maxPrice: MAX_PRICE,
          outDir: `${net.home}/results/${tag}-${i}`,
          onProgress: (p) => onProgress?.(p.stage),
        });
        assert.match(r.stdout, new RegExp(`< ${tag} ${i} >`));
        return { ok: true, price: r.price };
      } catch (e) {
        return { ok: false, price: 0n, code: isLilyError(e) ? e.code : "INTERNAL", message: (e as Error).message };
      }
    }),
  );
}

const chain = () => createLilyClient({ rpcUrl: net.network.rpcUrl, addresses: net.network });
const escrows = () => Promise.all(creators.map((c) => escrowBalance(chain(), { account: c.address })));

/** Deals the solver still counts against a provider's capacity. */
async function activeDeals(): Promise<DealRecord[]> {
  const out: DealRecord[] = [];
  for (const status of ["proposed", "signed", "opened", "running"]) {
    const { deals } = (await (await fetch(`${net.network.solverUrl}/v1/deals?status=${status}`)).json()) as { deals: DealRecord[] };
    out.push(...deals);
  }
  return out;
}

/** Wait (bounded) until the solver holds no capacity for anyone. */
async function capacityIsBack(): Promise<void> {
  for (let i = 0; i < 120; i++) {
    if ((await activeDeals()).length === 0) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.deepEqual(
    (await activeDeals()).map((d) => `${d.id} ${d.status}`),
    [],
    "deals still hold capacity",
  );
}

/**
 * Restart a role as the devnet started it (its arguments are in devnet.json), on the port it
 * listened on (network.json names it; the test devnet asked for any free port).
 */
function restart(role: string): Promise<void> {
  const args = [...net.state.roles[role]!.args];
  const url = net.state.roles[role]!.url;
  const port = args.indexOf("--port");
  if (port >= 0 && url) args[port + 1] = new URL(url).port;
  const proc = spawn(process.execPath, [LILY, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, LILY_LOG_LEVEL: "warn" } });
  started.push(proc);
  let out = "";
  return new Promise((resolve, reject) => {
    proc.stdout!.on("data", (d) => {
      out += d;
      if (out.includes("ready")) resolve();
    });
    proc.stderr!.on("data", (d) => (out += d));
    proc.once("exit", (code) => reject(new Error(`${role} exited ${code} on restart: ${out}`)));
  });
}

test(`${CONCURRENCY} job creators submit at once: every job completes, each is charged its price, and nothing stays locked or held`, async () => {
  const before = await escrows();
  const outcomes = await runAll("load");
  const failed = outcomes.filter((o) => !o.ok);
  assert.deepEqual(
    failed.map((o) => `${o.code}: ${o.message}`),
    [],
    "no job may fail under load",
  );
  const after = await escrows();
  for (const i of creators.keys()) assert.equal(after[i], before[i]! - outcomes[i]!.price, `job creator ${i} is charged exactly its price`);
  assert.equal(await totalLocked(chain()), 0n);
  await capacityIsBack();
});

test(`the solver, then a provider, killed with ${CONCURRENCY} jobs in flight: every job completes or is refunded, and the capacity comes back`, async () => {
  const before = await escrows();
  let opened = 0;
  let crashes: Promise<void> | undefined;
  const crash = async () => {
    process.kill(net.state.roles.solver!.pid, "SIGKILL");
    await restart("solver");
    // Some deals run on the provider while it dies; it resumes them from its database.
    await new Promise((r) => setTimeout(r, 1000));
    process.kill(net.state.roles["provider-1"]!.pid, "SIGKILL");
    await restart("provider-1");
  };
  const outcomes = await runAll("crash", (stage) => {
    if (stage === "opened" && ++opened === 5) crashes = crash();
  });
  assert.ok(crashes, "the crashes happened while jobs were in flight");
  await crashes;
  const after = await escrows();
  for (const [i, o] of outcomes.entries()) {
    if (o.ok) assert.equal(after[i], before[i]! - o.price, `job creator ${i}: charged exactly its price`);
    else {
      // A job that did not complete must have cost nothing: refunded (and paid the collateral), or never locked.
      assert.ok(o.code === "DEADLINE_PASSED" || o.code === "NO_MATCH", `job ${i}: ${o.code}: ${o.message}`);
      assert.ok(after[i]! >= before[i]!, `job ${i} did not complete and its job creator lost ${before[i]! - after[i]!}`);
    }
  }
  await capacityIsBack();
  assert.equal(await totalLocked(chain()), 0n);
  // And the network works as before.
  const again = await creators[0]!.sdk.run({ module: "cowsay@1.0.0", inputs: { message: "after" }, maxPrice: MAX_PRICE, outDir: `${net.home}/results/after` });
  assert.match(again.stdout, /< after >/);
});
