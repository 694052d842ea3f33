// A long-lived client across the chain node's restart, as a role that is never restarted meets it
// in the chaos test: the client built by createLilyClient (the roles' transport, over node:http
// with its pooled keep-alive connections), reads in flight when the node stops (gracefully, and
// killed), reads through connections left idle in the pool, and writes. Once the node is back on
// the same port every reader and the writer must succeed again within seconds, and no request may
// outlive its timeout: a request that never settled would hold viem's shared in-flight reads too.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { privateKeyToAccount } from "viem/accounts";
import { createLilyClient, deployLily, devAccounts, fundAccount, startAnvil, tokenBalance, type Anvil } from "@lily/chain";
import { tempDir } from "../../../test/support/tempDir.ts";

let anvil: Anvil | undefined;
after(() => anvil?.stop());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("a long-lived client reads and writes again soon after the chain node restarts, whether stopped or killed", { timeout: 180_000 }, async () => {
  const statePath = join(tempDir("lily-node-restart-"), "anvil-state.json");
  anvil = await startAnvil({ statePath, blockTimeSeconds: 1 });
  const port = Number(new URL(anvil.rpcUrl).port);
  const addresses = await deployLily({ rpcUrl: anvil.rpcUrl, deployerKey: devAccounts[0]!, supply: 10n ** 24n });
  const client = createLilyClient({ rpcUrl: anvil.rpcUrl, account: privateKeyToAccount(devAccounts[0]!), addresses });
  const to = privateKeyToAccount(devAccounts[1]!).address;
  const { publicClient } = client;

  // Each loop notes when it last succeeded; the longest any one call took is kept.
  const lastOk = new Map<string, number>();
  let longestCallMs = 0;
  let stop = false;
  const loop = async (name: string, call: () => Promise<unknown>, pauseMs: number) => {
    while (!stop) {
      const began = Date.now();
      try {
        await call();
        lastOk.set(name, Date.now());
      } catch {
        // The node is away: the next round tries again.
      }
      longestCallMs = Math.max(longestCallMs, Date.now() - began);
      await sleep(pauseMs);
    }
  };
  const names = ["logs-0", "logs-1", "logs-2", "logs-3", "logs-4", "logs-5", "block", "idle-6s", "idle-4s", "write"];
  const loops = [
    // Busy readers: requests in flight at any moment, so some are cut off by the stop.
    ...[0, 1, 2, 3, 4, 5].map((i) => loop(`logs-${i}`, () => publicClient.getLogs({ address: addresses.deals, fromBlock: 0n }), 5)),
    loop("block", () => publicClient.getBlockNumber({ cacheTime: 0 }), 100),
    // A reader that idles past the pool's keep-alive, and one that idles just under it.
    loop("idle-6s", () => publicClient.getChainId(), 6_000),
    loop("idle-4s", () => tokenBalance(client, { account: to }), 4_000),
    loop("write", () => fundAccount(client, { to, tokens: 1n }), 300),
  ];

  for (const how of ["stopped", "killed"] as const) {
    await sleep(3_000);
    if (how === "killed") process.kill(anvil.pid, "SIGKILL");
    await anvil.stop(); // SIGTERM when still running: anvil saves its state and exits
    await sleep(2_000);
    anvil = await startAnvil({ port, statePath, blockTimeSeconds: 1, startTimeoutMs: 30_000 });
    const back = Date.now();
    // Every loop succeeds again; the idle ones within their pause after the node is back.
    const deadline = back + 15_000;
    for (;;) {
      const behind = names.filter((n) => (lastOk.get(n) ?? 0) < back);
      if (behind.length === 0) break;
      assert.ok(Date.now() < deadline, `${how}: no success since the node came back for ${behind.join(", ")}`);
      await sleep(200);
    }
  }
  stop = true;
  await Promise.all(loops);
  // viem's timeout is 10 s a request and 3 tries: nothing hung past that.
  assert.ok(longestCallMs < 45_000, `a call took ${longestCallMs} ms`);
});
