// Wait for a sent transaction and insist it succeeded. A transaction can pass gas estimation yet
// revert when mined (the state moved in between); its revert reason is then recovered by
// replaying it as a call on the state its block started from, so the caller still gets a
// decoded LilyError (approximate if earlier transactions in the same block caused the revert).
import type { Hash, TransactionReceipt } from "viem";
import { LilyError } from "@lily/protocol";
import type { LilyClient } from "./client.ts";
import { toLilyError } from "./errors.ts";

/** What every write action returns. */
export interface WriteResult {
  txHash: Hash;
  gasUsed: bigint;
  blockNumber: bigint;
}

export async function confirm(client: LilyClient, hash: Hash): Promise<TransactionReceipt> {
  const { publicClient } = client;
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status === "success") return receipt;

  const tx = await publicClient.getTransaction({ hash });
  try {
    await publicClient.call({ account: tx.from, to: tx.to, data: tx.input, value: tx.value, blockNumber: receipt.blockNumber - 1n });
  } catch (e) {
    throw toLilyError(e);
  }
  throw new LilyError({ code: "CHAIN_REVERT", message: `transaction ${hash} reverted`, details: { txHash: hash } });
}

export function written(receipt: TransactionReceipt): WriteResult {
  return { txHash: receipt.transactionHash, gasUsed: receipt.gasUsed, blockNumber: receipt.blockNumber };
}
