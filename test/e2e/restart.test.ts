// Crashes lose nothing: a provider killed mid-job and restarted resumes the deal from its SQLite
// database and delivers before the deadline; a solver killed and restarted on the same database
// still knows every offer and deal. The job creator's `lily run` rides through both.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createLilyClient, escrowBalance, totalLocked } from "@lily/chain";
import { startDevnet, lily, LILY, type Devnet } from "./lilyProcess.ts";

const started: ChildProcess[] = [];
let net: Devnet | undefined;
after(async () => {
  for (const p of started) p.kill("SIGTERM");
  await net?.stop();
});

/** Start a role by hand, as an operator would, and wait until it says it is ready. */
function startRole(home: string, args: string[]): Promise<ChildProcess> {
  const proc = spawn(process.execPath, [LILY, "--home", home, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, LILY_LOG_LEVEL: "warn" } });
  started.push(proc);
  let out = "";
  return new Promise((resolve, reject) => {
    proc.stdout!.on("data", (d) => {
      out += d;
      if (out.includes("ready")) resolve(proc);
    });
    proc.stderr!.on("data", (d) => (out += d));
    proc.once("exit", (code) => reject(new Error(`${args[0]} exited ${code}: ${out}`)));
  });
}

test("a job survives its provider and the solver crashing and restarting mid-job", async () => {
  net = await startDevnet(["--providers", "1", "--sign-window", "5"]);
  const home = net.home;
  const chain = createLilyClient({ rpcUrl: net.network.rpcUrl, addresses: net.network });
  const provider = net.state.roles["provider-1"]!;
  const solver = net.state.roles.solver!;
  const before = await escrowBalance(chain, { account: provider.address! });
  const solverPort = new URL(net.network.solverUrl).port;
  let restarts: Promise<void> | undefined;

  const r = await lily(home, ["run", "primes@1.0.0", "-i", "n=1000000000", "--timeout", "90s", "--json"], {
    onStderr: (chunk) => {
      if (restarts || !/running the job/.test(chunk)) return;
      restarts = (async () => {
        process.kill(provider.pid, "SIGKILL");
        process.kill(solver.pid, "SIGKILL");
        const n = net!.network;
        await startRole(home, [
          "solver",
          "--chain-id",
          String(n.chainId),
          "--deals",
          n.deals,
          "--leases",
          n.leases,
          "--token",
          n.token,
          "--rpc-url",
          n.rpcUrl,
          "--deploy-block",
          String(n.deployBlock),
          "--port",
          solverPort,
          "--sign-window",
          "5",
        ]);
        await startRole(home, ["provider", "--name", "provider-1", "--price", "1", "--cpu", "2", "--memory-mb", "2048"]);
      })();
    },
  });
  assert.ok(restarts, `the job was never seen running:\n${r.stderr}`);
  await restarts;
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  assert.match(readFileSync(join(result.outDir, "stdout"), "utf8"), /50847534/, "π(10^9) = 50,847,534");
  assert.equal(await escrowBalance(chain, { account: provider.address! }), before + BigInt(result.price), "paid once, collateral back");
  assert.equal(await totalLocked(chain), 0n);

  // The restarted solver still has the deal, now committed, from its database.
  const deal = await fetch(`${net.network.solverUrl}/v1/deals/${result.dealId}`).then((res) => res.json());
  assert.equal(deal.status, "committed");
});
