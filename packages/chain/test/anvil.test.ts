import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { parseEther } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { createLilyClient, deployLily, deposit, devAccounts, escrowBalance, startAnvil, tokenBalance, totalLocked } from "../src/index.ts";
import { rejectsWith } from "./fixture.ts";
import { tempDir } from "../../../test/support/tempDir.ts";

const rpc = async (rpcUrl: string, method: string) => {
  const res = await fetch(rpcUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params: [] }),
  });
  return ((await res.json()) as { result: string }).result;
};

describe("the embedded anvil", () => {
  test("starts on a free port with the chain id asked for, side by side with another", async () => {
    const [a, b] = await Promise.all([startAnvil(), startAnvil({ chainId: 1337 })]);
    try {
      assert.notEqual(a.rpcUrl, b.rpcUrl);
      assert.match(a.rpcUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(Number(await rpc(a.rpcUrl, "eth_chainId")), 31337);
      assert.equal(Number(await rpc(b.rpcUrl, "eth_chainId")), 1337);
      assert.equal(b.chainId, 1337);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  test("keeps its chain across a restart when given a state file", async () => {
    const dir = tempDir("lily-anvil-");
    const statePath = join(dir, "state.json");
    try {
      const first = await startAnvil({ statePath });
      const addresses = await deployLily({ rpcUrl: first.rpcUrl, deployerKey: devAccounts[0], supply: parseEther("1000") });
      const owner = createLilyClient({ rpcUrl: first.rpcUrl, account: privateKeyToAccount(devAccounts[0]), addresses });
      await deposit(owner, { amount: parseEther("7") });
      await first.stop();

      const second = await startAnvil({ statePath });
      try {
        const again = createLilyClient({ rpcUrl: second.rpcUrl, account: privateKeyToAccount(devAccounts[0]), addresses });
        assert.equal(await escrowBalance(again), parseEther("7"));
        assert.equal(await tokenBalance(again), parseEther("993"));
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("with a block time, mines empty blocks on a quiet chain", async () => {
    const anvil = await startAnvil({ blockTimeSeconds: 1 });
    try {
      const before = Number(await rpc(anvil.rpcUrl, "eth_blockNumber"));
      await new Promise((r) => setTimeout(r, 2_300));
      const after = Number(await rpc(anvil.rpcUrl, "eth_blockNumber"));
      assert.ok(after - before >= 2, `mined ${after - before} blocks in 2.3 s`);
    } finally {
      await anvil.stop();
    }
  });

  // Fails by timing out if transactions had to wait for the hour-long interval.
  test("with a block time, still mines each transaction at once", { timeout: 20_000 }, async () => {
    const anvil = await startAnvil({ blockTimeSeconds: 3600 });
    try {
      const addresses = await deployLily({ rpcUrl: anvil.rpcUrl, deployerKey: devAccounts[0], supply: parseEther("10") });
      const owner = createLilyClient({ rpcUrl: anvil.rpcUrl, account: privateKeyToAccount(devAccounts[0]), addresses });
      await deposit(owner, { amount: 1n });
      assert.equal(await escrowBalance(owner), 1n);
    } finally {
      await anvil.stop();
    }
  });

  test("rejects a block time that is not positive", async () => {
    await rejectsWith(startAnvil({ blockTimeSeconds: 0 }), "CONFIG");
  });

  test("once stopped, calls to it fail as UNREACHABLE", async () => {
    const anvil = await startAnvil();
    const addresses = await deployLily({ rpcUrl: anvil.rpcUrl, deployerKey: devAccounts[0], supply: 1n });
    await anvil.stop();
    const client = createLilyClient({ rpcUrl: anvil.rpcUrl, addresses });
    const e = await rejectsWith(totalLocked(client), "UNREACHABLE");
    assert.ok(String(e.details.rpcUrl).startsWith(anvil.rpcUrl), `names the RPC URL: ${e.message}`);
    await rejectsWith(deployLily({ rpcUrl: anvil.rpcUrl, deployerKey: devAccounts[0], supply: 1n }), "UNREACHABLE");
  });
});
