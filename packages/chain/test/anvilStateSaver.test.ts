import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createPublicClient, createWalletClient, http } from "viem";
import { foundry } from "viem/chains";
import { privateKeyToAccount } from "viem/accounts";
import { devAccounts, startAnvil } from "../src/index.ts";
import { MIN_SAVE_INTERVAL_MS, SAVE_BUDGET, nextSaveDelayMs, startStateSaver } from "../src/anvilStateSaver.ts";
import type { LilyError } from "@lily/protocol";
import { tempDir } from "../../../test/support/tempDir.ts";

const SINK = "0x000000000000000000000000000000000000dEaD";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, ok: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe("saving a running anvil's chain", () => {
  test("waits after each save in proportion to its cost, and at least a second", () => {
    assert.equal(nextSaveDelayMs(0), MIN_SAVE_INTERVAL_MS);
    assert.equal(nextSaveDelayMs(15), MIN_SAVE_INTERVAL_MS);
    assert.equal(nextSaveDelayMs(100), Math.ceil(100 / SAVE_BUDGET)); // 5 s: saving takes 2% of the time
    assert.equal(nextSaveDelayMs(1_500), 75_000);
    assert.equal(nextSaveDelayMs(1, 200), 200);
  });

  test("a transaction is saved within seconds, so a node killed outright restarts with it", { timeout: 30_000 }, async () => {
    const dir = tempDir("lily-anvil-save-");
    const statePath = join(dir, "state.json");
    const account = privateKeyToAccount(devAccounts[1]!);
    let anvil = await startAnvil({ statePath });
    try {
      const chain = { ...foundry, id: anvil.chainId };
      const wallet = createWalletClient({ account, chain, transport: http(anvil.rpcUrl) });
      const sentAt = Date.now();
      const hash = await wallet.sendTransaction({ to: SINK, value: 5n });
      await until("a save after the transaction", () => existsSync(statePath) && statSync(statePath).mtimeMs > sentAt);
      process.kill(anvil.pid, "SIGKILL"); // no chance to write its state on the way out
      await anvil.stop();
      anvil = await startAnvil({ statePath });
      const reader = createPublicClient({ chain, transport: http(anvil.rpcUrl) });
      assert.equal((await reader.getTransactionReceipt({ hash })).status, "success");
      assert.equal(await reader.getBalance({ address: SINK }), 5n);
    } finally {
      await anvil.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // anvil's own --state-interval 1 rewrote the file every second, moved or not, whole history each time.
  test("does not rewrite the chain while it does not move", { timeout: 30_000 }, async () => {
    const dir = tempDir("lily-anvil-still-");
    const statePath = join(dir, "state.json");
    const anvil = await startAnvil({ statePath });
    try {
      await until("the first save", () => existsSync(statePath));
      const first = statSync(statePath).mtimeMs;
      await sleep(2_500);
      assert.equal(statSync(statePath).mtimeMs, first, "the file was written again though no block was mined");
    } finally {
      await anvil.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a save that fails is reported once and leaves the previous save whole", { timeout: 30_000 }, async () => {
    const dir = tempDir("lily-anvil-fail-");
    const statePath = join(dir, "state.json");
    writeFileSync(statePath, "the previous save");
    mkdirSync(`${statePath}.saving`); // where a save is written aside: every write fails
    const anvil = await startAnvil();
    const errors: LilyError[] = [];
    const saver = startStateSaver(anvil.rpcUrl, statePath, { minIntervalMs: 100, onError: (e) => errors.push(e) });
    try {
      await until("a failed save", () => errors.length > 0);
      await sleep(600); // more failing attempts, none reported again
      assert.equal(errors.length, 1, errors.map((e) => e.message).join("; "));
      assert.equal(errors[0]!.code, "UNREACHABLE");
      assert.equal(errors[0]!.field, "statePath");
      assert.equal(saver.saves, 0);
      assert.equal(readFileSync(statePath, "utf8"), "the previous save");
      rmSync(`${statePath}.saving`, { recursive: true });
      await until("a save once writing works again", () => saver.saves > 0);
      assert.match(readFileSync(statePath, "utf8"), /^\{"block"/);
      assert.ok(!existsSync(`${statePath}.saving`), "nothing left aside after a save");
    } finally {
      await saver.stop();
      await anvil.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
