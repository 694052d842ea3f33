import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPublicClient, createWalletClient, http, parseEther, type Hex } from "viem";
import { foundry } from "viem/chains";
import { privateKeyToAccount } from "viem/accounts";
import {
  PERSISTED_STATES,
  anvilRpc,
  createLilyClient,
  deployLily,
  deposit,
  devAccounts,
  escrowBalance,
  startAnvil,
  tokenBalance,
  totalLocked,
} from "../src/index.ts";
import { rejectsWith } from "./fixture.ts";
import { tempDir } from "../../../test/support/tempDir.ts";

/** Where the stream test's transfers go. */
const SINK = "0x000000000000000000000000000000000000dEaD";

describe("the embedded anvil", () => {
  test("starts on a free port with the chain id asked for, side by side with another", async () => {
    const [a, b] = await Promise.all([startAnvil(), startAnvil({ chainId: 1337 })]);
    try {
      assert.notEqual(a.rpcUrl, b.rpcUrl);
      assert.match(a.rpcUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(Number(await anvilRpc(a.rpcUrl, "eth_chainId")), 31337);
      assert.equal(Number(await anvilRpc(b.rpcUrl, "eth_chainId")), 1337);
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

  test("stopped under a stream of transactions, it restarts knowing every transaction whose effects it kept", async () => {
    // Each round stops the node while one account sends transfers back to back. Before the node's
    // mining was stopped ahead of its state dump, most rounds came back with the account's nonce
    // (state) ahead of the transactions the node could give a receipt for (history): 23 of 30.
    const account = privateKeyToAccount(devAccounts[1]!);
    for (let round = 0; round < 5; round++) {
      const dir = tempDir("lily-anvil-stream-");
      const statePath = join(dir, "state.json");
      let anvil = await startAnvil({ statePath, blockTimeSeconds: 1 });
      try {
        const chain = { ...foundry, id: anvil.chainId };
        const wallet = createWalletClient({ account, chain, transport: http(anvil.rpcUrl) });
        const sent: Hex[] = [];
        let sending = true;
        const sender = (async () => {
          for (let nonce = 0; sending; nonce++) {
            const hash = await wallet.sendTransaction({ to: SINK, value: 1n, nonce }).catch(() => undefined);
            if (!hash) return; // the node is stopping
            sent.push(hash);
          }
        })();
        await new Promise((r) => setTimeout(r, 1_200 + round * 150));
        sending = false;
        await Promise.all([anvil.stop(), sender]);
        const port = Number(new URL(anvil.rpcUrl).port);
        anvil = await startAnvil({ port, statePath, blockTimeSeconds: 1 });
        const reader = createPublicClient({ chain, transport: http(anvil.rpcUrl) });
        const nonce = await reader.getTransactionCount({ address: account.address });
        const known = await Promise.all(
          sent.map((hash) =>
            reader.getTransactionReceipt({ hash }).then(
              () => 1,
              () => 0,
            ),
          ),
        );
        assert.ok(sent.length > 0, "transactions were sent");
        assert.equal(
          known.reduce((a, b) => a + b, 0),
          nonce,
          `round ${round}: ${nonce} transactions in the account's nonce, receipts for as many of the ${sent.length} sent`,
        );
        assert.equal(await reader.getBalance({ address: SINK }), BigInt(nonce), "each mined transfer's value arrived");
      } finally {
        await anvil.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });

  test("with a block time, mines empty blocks on a quiet chain", async () => {
    const anvil = await startAnvil({ blockTimeSeconds: 1 });
    try {
      const before = Number(await anvilRpc(anvil.rpcUrl, "eth_blockNumber"));
      await new Promise((r) => setTimeout(r, 2_300));
      const after = Number(await anvilRpc(anvil.rpcUrl, "eth_blockNumber"));
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

  test("keeps a few past states on disk, in a folder removed when the node exits, even killed", { timeout: 60_000 }, async () => {
    const files = (dir: string): number => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
    const anvil = await startAnvil();
    try {
      assert.ok(anvil.cacheDir.startsWith(tmpdir()), anvil.cacheDir);
      // Past ~400 in memory, anvil wrote every older state to disk (without --max-persisted-states).
      await anvilRpc(anvil.rpcUrl, "anvil_mine", ["0x320"]);
      const kept = files(anvil.cacheDir);
      assert.ok(kept <= PERSISTED_STATES, `${kept} states on disk after 800 blocks`);
      // The latest states still answer (a reverted transaction is replayed on its block's parent).
      assert.ok(BigInt(String(await anvilRpc(anvil.rpcUrl, "eth_getBalance", [privateKeyToAccount(devAccounts[0]).address, "0x31f"]))) > 0n);
    } finally {
      await anvil.stop();
    }
    assert.ok(!existsSync(anvil.cacheDir), "the cache folder is removed on stop");
    const killed = await startAnvil();
    process.kill(killed.pid, "SIGKILL");
    await killed.stop();
    assert.ok(!existsSync(killed.cacheDir), "the cache folder of a node killed outright is removed too");
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
