// `lily challenge <id> --follow` against a real anvil with Lily deployed (the chain fixture: a block
// per transaction, so chain time moves only when the test moves it). The chain node loses the
// challenge (evm_snapshot before it, evm_revert once lily has it confirmed): lily sends it again,
// and when the window closes it reports the deal challenged.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseEther, type Hex } from "viem";
import { createLilyClient, dealState, deposit, fundAccount } from "@lily/chain";
import { sqliteJournal, type JobEntry } from "@lily/sdk";
import { startFixture, type Fixture } from "../../chain/test/fixture.ts";
import { committedDeal, fixtureEndpoints } from "../../sdk/test/committedDeal.ts";
import { roleAccount } from "../src/keys.ts";
import { LILY, lilyAsync, tempHome } from "./lilyProcess.ts";

const WINDOW = 600n;
let f: Fixture;
let home: string;
let account: ReturnType<typeof roleAccount>;

before(async () => {
  f = await startFixture();
  home = tempHome();
  account = roleAccount(home, "job-creator");
  await fundAccount(f.deployer, { to: account.address, tokens: parseEther("100"), eth: parseEther("1") });
  await deposit(createLilyClient({ rpcUrl: f.anvil.rpcUrl, account, addresses: f.addresses }), { amount: parseEther("100") });
  writeFileSync(join(home, "network.json"), JSON.stringify({ ...fixtureEndpoints(f), modules: {} }));
});
after(() => f?.stop());

const rpc = (method: string, params: unknown[] = []) => f.deployer.publicClient.request({ method, params } as never) as Promise<unknown>;

/** A committed deal of the home's job creator, written into its journal as `lily run` would. */
async function committedJob(): Promise<JobEntry> {
  const entry = await committedDeal(f, account, WINDOW);
  mkdirSync(join(home, "data", "job-creator"), { recursive: true });
  const journal = sqliteJournal(join(home, "data", "job-creator", "jobs.db"));
  journal.put(entry);
  journal.close();
  return entry;
}

/** Start `lily` and let the test wait for what it writes to stderr while it runs. */
function lilyRunning(...args: string[]) {
  const child = spawn(process.execPath, [LILY, "--home", home, ...args], { env: { ...process.env, LILY_LOG_LEVEL: "warn" } });
  let stdout = "";
  let stderr = "";
  const waiters: (() => void)[] = [];
  child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
    for (const w of waiters.splice(0)) w();
  });
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  return {
    exited: exited.then((code) => ({ code, stdout, stderr })),
    async says(pattern: RegExp, timeoutMs = 20_000): Promise<void> {
      const until = Date.now() + timeoutMs;
      while (!pattern.test(stderr)) {
        if (Date.now() > until || child.exitCode !== null) throw new Error(`lily never said ${pattern}; stderr:\n${stderr}`);
        await Promise.race([new Promise<void>((r) => waiters.push(r)), new Promise((r) => setTimeout(r, 250))]);
      }
    },
    kill: () => child.kill(),
  };
}

test("lily challenge --follow sends a challenge the chain node lost again, and reports the deal challenged when the window closes", async (t) => {
  const entry = await committedJob();
  const snapshot = await rpc("evm_snapshot");
  const lily = lilyRunning("challenge", entry.jobOfferId.slice(0, 12), "--reason", "not my cow", "--follow", "--json");
  t.after(() => lily.kill());
  await lily.says(/deal challenged: window closes in \d+ s/);

  // What anvil does across a stop that loses its last blocks: the confirmed challenge is gone.
  assert.equal(await rpc("evm_revert", [snapshot]), true);
  await lily.says(/challenge lost by the node: sent again \(tx 0x[0-9a-f]{64}\)/);
  assert.equal(await dealState(f.deployer, { dealId: entry.dealId! }), "challenged");

  await f.increaseTime(Number(WINDOW) + 1);
  const r = await lily.exited;
  assert.equal(r.code, 0, r.stderr);
  const outcome = JSON.parse(r.stdout) as { dealId: Hex; state: string; sentAgain: Hex[]; lost: boolean };
  assert.deepEqual(
    { dealId: outcome.dealId, state: outcome.state, resent: outcome.sentAgain.length, lost: outcome.lost },
    { dealId: entry.dealId, state: "challenged", resent: 1, lost: false },
  );
});

test("lily challenge without --follow says that --follow keeps watching until the window closes", async () => {
  const entry = await committedJob();
  const prefix = entry.jobOfferId.slice(0, 12);
  const r = await lilyAsync(home, "challenge", prefix);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^challenged deal ${entry.dealId} \\(tx 0x[0-9a-f]{64}\\)$`, "m"));
  assert.match(r.stdout, new RegExp(`^\`lily challenge ${prefix} --follow\` keeps watching until the window closes`, "m"));
});
