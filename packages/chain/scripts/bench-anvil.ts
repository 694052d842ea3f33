// How fast the embedded chain is: anvil's start-up time (spawn until JSON-RPC answers) and
// LILY transfers per second through viem, one at a time (send, wait for the receipt) and
// pre-signed and sent concurrently. Run: node packages/chain/scripts/bench-anvil.ts
import { encodeFunctionData, parseEther, parseGwei, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { createLilyClient, deployLily, devAccounts, lilyTokenAbi, startAnvil, transferToken } from "../src/index.ts";

const STARTS = 10;
const TXS = 500;

const startMs: number[] = [];
for (let i = 0; i < STARTS; i++) {
  const t0 = performance.now();
  const anvil = await startAnvil();
  startMs.push(performance.now() - t0);
  await anvil.stop();
}
startMs.sort((a, b) => a - b);
console.log(`anvil start-up: median ${startMs[STARTS >> 1].toFixed(0)} ms, min ${startMs[0].toFixed(0)} ms (${STARTS} starts)`);

const anvil = await startAnvil();
try {
  const addresses = await deployLily({ rpcUrl: anvil.rpcUrl, deployerKey: devAccounts[0], supply: parseEther("1000000") });
  const account = privateKeyToAccount(devAccounts[0]);
  const client = createLilyClient({ rpcUrl: anvil.rpcUrl, account, addresses });
  const to = privateKeyToAccount(devAccounts[1]).address;

  let t0 = performance.now();
  for (let i = 0; i < TXS; i++) await transferToken(client, { to, amount: 1n });
  const sequential = TXS / ((performance.now() - t0) / 1000);

  // Raw: signed ahead with explicit nonce, gas and fees, then sent concurrently; what the node
  // itself sustains when the client does no per-transaction round trips.
  const { publicClient } = client;
  let nonce = await publicClient.getTransactionCount({ address: account.address });
  const data = encodeFunctionData({ abi: lilyTokenAbi, functionName: "transfer", args: [to, 1n] });
  const signed: Hex[] = [];
  for (let i = 0; i < TXS; i++) {
    signed.push(
      await account.signTransaction({
        chainId: anvil.chainId,
        type: "eip1559",
        to: addresses.token,
        data,
        nonce: nonce++,
        gas: 60_000n,
        maxFeePerGas: parseGwei("10"),
        maxPriorityFeePerGas: 1n,
      }),
    );
  }
  t0 = performance.now();
  const hashes = await Promise.all(signed.map((serializedTransaction) => publicClient.sendRawTransaction({ serializedTransaction })));
  await publicClient.waitForTransactionReceipt({ hash: hashes.at(-1)!, pollingInterval: 5 });
  const raw = TXS / ((performance.now() - t0) / 1000);

  console.log(
    `LILY transfers: ${sequential.toFixed(0)} tx/s through transferToken (send, wait for receipt), ${raw.toFixed(0)} tx/s pre-signed and sent concurrently (${TXS} each)`,
  );
} finally {
  await anvil.stop();
}
