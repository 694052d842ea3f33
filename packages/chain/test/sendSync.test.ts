// A transaction sent to a node that mines on arrival comes back with its receipt
// (eth_sendRawTransactionSync, EIP-7966), so its confirmation asks the node nothing more; a node
// without the method, or one that does not mine on arrival, gets plain sends and the receipt is
// waited for as before. Each case talks to anvil through its own counting hop (its own URL, so
// what the client learned of one node does not carry to the next).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { privateKeyToAccount } from "viem/accounts";
import {
  createLilyClient,
  deployLily,
  devAccounts,
  lilyTokenAbi,
  startAnvil,
  writeContract,
  type Anvil,
  type LilyAddresses,
  type LilyClient,
} from "@lily/chain";
import { isLilyError } from "@lily/protocol";
import { confirm } from "../src/confirm.ts";
import { SYNC_SEND_MS } from "../src/sendSync.ts";
import { startRpcHop } from "../../../test/support/rpcHop.ts";

let anvil: Anvil;
let addresses: LilyAddresses;
const to = privateKeyToAccount(devAccounts[1]!).address;

before(async () => {
  anvil = await startAnvil({});
  addresses = await deployLily({ rpcUrl: anvil.rpcUrl, deployerKey: devAccounts[0]!, supply: 10n ** 24n });
});
after(() => anvil.stop());

/** A hop to anvil that counts calls by method and answers `unknown` methods as a node without them does. */
const hop = (unknown: string[] = []) =>
  startRpcHop(anvil.rpcUrl, (call) =>
    unknown.includes(call.method) ? { code: -32601, message: `the method ${call.method} does not exist/is not available` } : undefined,
  );

const clientAt = (url: string) => createLilyClient({ rpcUrl: url, account: privateKeyToAccount(devAccounts[0]!), addresses, pollingIntervalMs: 20 });
const transfer = (client: LilyClient) => writeContract(client, { address: addresses.token, abi: lilyTokenAbi, functionName: "transfer", args: [to, 1n] });
const nonceOf = (client: LilyClient) => client.publicClient.getTransactionCount({ address: client.account!.address });

test("a node that mines on arrival answers the send with the receipt, and confirming asks it nothing more", async (t) => {
  const h = await hop();
  t.after(() => h.close());
  const client = clientAt(h.url);
  const hash = await transfer(client);
  const receipt = await confirm(client, hash);
  assert.equal(h.calls.get("eth_sendRawTransactionSync"), 1);
  assert.equal(h.calls.get("eth_sendRawTransaction"), undefined);
  assert.equal(h.calls.get("eth_getTransactionReceipt"), undefined, "no receipt was asked for");
  // The receipt is the node's own, as a plain read of it gives it.
  const read = await client.publicClient.getTransactionReceipt({ hash });
  assert.deepEqual(
    [receipt.transactionHash, receipt.blockHash, receipt.blockNumber, receipt.status, receipt.gasUsed, receipt.logs.length],
    [read.transactionHash, read.blockHash, read.blockNumber, read.status, read.gasUsed, read.logs.length],
  );
  // A receipt serves one confirmation: a second one reads it from the node (as the read above did).
  await confirm(client, hash);
  assert.equal(h.calls.get("eth_getTransactionReceipt"), 2);
});

test("a node without eth_sendRawTransactionSync gets the same signed transaction as a plain send, once, and plain sends after it", async (t) => {
  const h = await hop(["eth_sendRawTransactionSync"]);
  t.after(() => h.close());
  const client = clientAt(h.url);
  const nonce = await nonceOf(client);
  for (let i = 0; i < 2; i++) assert.equal((await confirm(client, await transfer(client))).status, "success");
  assert.equal(await nonceOf(client), nonce + 2, "each transfer was mined once");
  assert.equal(h.calls.get("eth_sendRawTransactionSync"), 1, "tried once");
  assert.equal(h.calls.get("eth_sendRawTransaction"), 2);
  assert.ok((h.calls.get("eth_getTransactionReceipt") ?? 0) >= 2, "the receipts were waited for");
});

test("a node that does not mine on arrival: the send returns the hash once it has waited SYNC_SEND_MS, the receipt is waited for, and later sends are plain", async (t) => {
  const h = await hop();
  t.after(() => h.close());
  const client = clientAt(h.url);
  const rpc = (method: string, params: unknown[] = []) => client.publicClient.request({ method, params } as never);
  await rpc("evm_setAutomine", [false]);
  try {
    const t0 = Date.now();
    const hash = await transfer(client);
    const waited = Date.now() - t0;
    assert.ok(waited >= SYNC_SEND_MS - 50 && waited < SYNC_SEND_MS + 3_000, `the send returned after ${waited} ms`);
    const mined = new Promise((r) => setTimeout(r, 200)).then(() => rpc("evm_mine"));
    assert.equal((await confirm(client, hash)).status, "success");
    await mined;
    // The next send does not wait for a block: it is a plain one.
    const t1 = Date.now();
    const next = await transfer(client);
    assert.ok(Date.now() - t1 < SYNC_SEND_MS, "the second send did not wait");
    await rpc("evm_mine");
    assert.equal((await confirm(client, next)).status, "success");
  } finally {
    await rpc("evm_setAutomine", [true]);
  }
  assert.equal(h.calls.get("eth_sendRawTransactionSync"), 1);
  assert.equal(h.calls.get("eth_sendRawTransaction"), 1);
});

test("many transfers at once from one account through sends that return receipts are each mined once, in nonce order", async (t) => {
  const h = await hop();
  t.after(() => h.close());
  const client = clientAt(h.url);
  const nonce = await nonceOf(client);
  const hashes = await Promise.all(Array.from({ length: 20 }, () => transfer(client)));
  const receipts = await Promise.all(hashes.map((hash) => confirm(client, hash)));
  assert.ok(receipts.every((r) => r.status === "success"));
  assert.equal(new Set(hashes).size, 20);
  assert.equal(await nonceOf(client), nonce + 20);
  assert.equal(h.calls.get("eth_getTransactionReceipt"), undefined);
});

test("a transaction mined reverted comes back with its receipt, and confirming it still decodes the revert (replayed on the block before)", async (t) => {
  const h = await hop();
  t.after(() => h.close());
  const client = clientAt(h.url);
  const nonce = await nonceOf(client);
  // A fixed gas limit skips estimation, so the transfer of more than the balance is mined, and reverts.
  const hash = await writeContract(client, { address: addresses.token, abi: lilyTokenAbi, functionName: "transfer", args: [to, 10n ** 30n], gas: 100_000n });
  assert.equal(h.calls.get("eth_sendRawTransactionSync"), 1);
  await assert.rejects(confirm(client, hash), (e: unknown) => isLilyError(e) && /holds .* LILY but .* LILY is needed/.test((e as Error).message));
  assert.equal(await nonceOf(client), nonce + 1, "it was mined");
  assert.equal(h.calls.get("eth_getTransactionReceipt"), undefined);
});
