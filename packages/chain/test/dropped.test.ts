// A transaction the node accepted and then lost (a restart emptied its pool; anvil loses the last
// one or two across a stop) ends the wait for its receipt within seconds, as UNREACHABLE ("not
// sent, try again"), instead of after the 3-minute receipt timeout that cost a provider its
// deadline. One that is only slow to be mined is still waited for.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { privateKeyToAccount } from "viem/accounts";
import { createLilyClient, deployLily, devAccounts, lilyTokenAbi, startAnvil, writeContract, type Anvil, type LilyClient } from "@lily/chain";
import { isLilyError } from "@lily/protocol";
import { confirm, DROPPED_AFTER_MS } from "../src/confirm.ts";

let anvil: Anvil;
let client: LilyClient;
const to = privateKeyToAccount(devAccounts[1]!).address;

before(async () => {
  anvil = await startAnvil({});
  const addresses = await deployLily({ rpcUrl: anvil.rpcUrl, deployerKey: devAccounts[0]!, supply: 10n ** 24n });
  client = createLilyClient({ rpcUrl: anvil.rpcUrl, account: privateKeyToAccount(devAccounts[0]!), addresses });
});
after(() => anvil.stop());

const rpc = (method: string, params: unknown[] = []) => client.publicClient.request({ method, params } as never);
const transfer = () => writeContract(client, { address: client.addresses.token, abi: lilyTokenAbi, functionName: "transfer", args: [to, 1n] });

test("a transaction the node drops ends the wait at once, as UNREACHABLE, and a send after it goes through", async () => {
  await rpc("evm_setAutomine", [false]);
  try {
    const hash = await transfer();
    await rpc("anvil_dropTransaction", [hash]);
    const t0 = Date.now();
    await assert.rejects(confirm(client, hash), (e: unknown) => isLilyError(e, "UNREACHABLE") && /was dropped/.test((e as Error).message));
    const waited = Date.now() - t0;
    assert.ok(waited >= DROPPED_AFTER_MS && waited < DROPPED_AFTER_MS + 5_000, `gave up after ${waited} ms`);
  } finally {
    await rpc("evm_setAutomine", [true]);
  }
  // The nonce is read afresh: the next send takes the dropped one's place and is mined.
  const receipt = await confirm(client, await transfer());
  assert.equal(receipt.status, "success");
});

// Automine stays off until the block is mined by hand: turning it on mines what is pending.
test("a transaction only slow to be mined is waited for past the drop delay", async () => {
  await rpc("evm_setAutomine", [false]);
  try {
    const hash = await transfer();
    // Pending, known to the node, mined only after the drop delay has passed.
    const t0 = Date.now();
    const mined = new Promise((r) => setTimeout(r, DROPPED_AFTER_MS + 1_000)).then(() => rpc("evm_mine"));
    const receipt = await confirm(client, hash);
    await mined;
    assert.equal(receipt.status, "success");
    assert.ok(Date.now() - t0 >= DROPPED_AFTER_MS + 1_000, "the receipt came from the block mined after the delay");
  } finally {
    await rpc("evm_setAutomine", [true]);
  }
});

test("a receipt that comes within one polling interval is waited for without asking whether the node knows the transaction", async () => {
  await rpc("evm_setAutomine", [false]);
  try {
    const hash = await transfer();
    // Asked after every missed look, a wait of a few looks (a busy node) cost twice the requests.
    let asked = 0;
    const { publicClient } = client;
    const counting = {
      ...client,
      publicClient: {
        ...publicClient,
        getTransaction: (args: { hash: `0x${string}` }) => {
          asked++;
          return publicClient.getTransaction(args);
        },
      },
    };
    const mined = new Promise((r) => setTimeout(r, publicClient.pollingInterval / 2)).then(() => rpc("evm_mine"));
    const receipt = await confirm(counting as LilyClient, hash);
    await mined;
    assert.equal(receipt.status, "success");
    assert.equal(asked, 0);
  } finally {
    await rpc("evm_setAutomine", [true]);
  }
});
