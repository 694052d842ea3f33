// Wait for a sent transaction and insist it succeeded. A transaction can pass gas estimation yet
// revert when mined (the state moved in between); its revert reason is then recovered by
// replaying it as a call on the state its block started from, so the caller still gets a
// decoded LilyError (approximate if earlier transactions in the same block caused the revert).
import { TransactionNotFoundError, TransactionReceiptNotFoundError, type Hash, type TransactionReceipt } from "viem";
import { LilyError } from "@lily/protocol";
import type { LilyClient } from "./client.ts";
import { toLilyError } from "./errors.ts";
import { takeSentReceipt } from "./sendSync.ts";

/** What every write action returns. */
export interface WriteResult {
  txHash: Hash;
  gasUsed: bigint;
  blockNumber: bigint;
  /** The block's hash: whether that block is still the chain's (a node can lose its last blocks) is checked by it. */
  blockHash: Hash;
}

export async function confirm(client: LilyClient, hash: Hash): Promise<TransactionReceipt> {
  const { publicClient } = client;
  // A node that mines on arrival gave the receipt with the send (sendSync.ts).
  const receipt = takeSentReceipt(hash) ?? (await untilMinedOrDropped(client, hash));
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
  return { txHash: receipt.transactionHash, gasUsed: receipt.gasUsed, blockNumber: receipt.blockNumber, blockHash: receipt.blockHash };
}

/** How long a receipt is waited for at most, as viem's waitForTransactionReceipt does. */
const RECEIPT_TIMEOUT_MS = 180_000;
/** How long the node may not know a transaction it accepted before it counts as dropped. */
export const DROPPED_AFTER_MS = 3_000;

/**
 * The transaction's receipt once mined. A node can lose a transaction it accepted (its pool
 * emptied by a restart: anvil loses the last one or two across a stop; a busy node evicts), and
 * waiting out the receipt timeout then cost a provider its deadline and its collateral. So while
 * there is no receipt, the node is asked whether it knows the transaction at all; unknown for
 * DROPPED_AFTER_MS on end (a node that does not answer meanwhile is waited for, as before), it
 * is dropped: UNREACHABLE, which every caller treats as "not sent, try again" (the next send reads
 * the nonce afresh). A transaction dropped wrongly (a load-balanced RPC whose backends disagree)
 * is at worst sent twice: the second meets its own state change and is refused or skipped.
 */
async function untilMinedOrDropped(client: LilyClient, hash: Hash): Promise<TransactionReceipt> {
  const { publicClient } = client;
  const started = Date.now();
  let unknownSince: number | undefined;
  // The first look comes at once, and the next ones soon after: a node that mines on arrival
  // (anvil) often has the receipt a few milliseconds after answering the send, and waiting a
  // whole polling interval for it cost a job 100 ms on loopback. From a tenth of the interval,
  // doubling up to it: 4 looks more than before on a 1 s remote node, then as before.
  let pause = Math.max(1, publicClient.pollingInterval / 10);
  // Whether the node knows the transaction is asked at most once a polling interval, the first time
  // one interval in: asked after every missed look, it doubled the requests of a wait that is
  // usually a few looks long (a busy devnet), and a drop is only declared after seconds anyway.
  let knownAskedAt = started;
  for (;;) {
    // Why there is no receipt this round: the node did not answer (its error), or it has none yet.
    let silent: unknown;
    try {
      return await publicClient.getTransactionReceipt({ hash });
    } catch (e) {
      if (!(e instanceof TransactionReceiptNotFoundError)) {
        silent = e;
        unknownSince = undefined;
      } else if (Date.now() - knownAskedAt >= publicClient.pollingInterval) {
        knownAskedAt = Date.now();
        // true: pending; false: the node does not know it; undefined: the node did not answer.
        const known = await publicClient.getTransaction({ hash }).then(
          () => true,
          (e2) => (e2 instanceof TransactionNotFoundError ? false : undefined),
        );
        if (known === false) unknownSince ??= Date.now();
        else if (known) unknownSince = undefined;
        if (unknownSince !== undefined && Date.now() - unknownSince >= DROPPED_AFTER_MS) {
          throw new LilyError({
            code: "UNREACHABLE",
            message: `transaction ${hash} was dropped: the chain node no longer knows it, and it was not mined`,
            hint: "nothing it did happened; send it again",
            details: { txHash: hash },
          });
        }
      }
    }
    if (Date.now() - started > RECEIPT_TIMEOUT_MS) {
      throw silent !== undefined
        ? toLilyError(silent)
        : new LilyError({ code: "UNREACHABLE", message: `transaction ${hash} was not mined in ${RECEIPT_TIMEOUT_MS / 1000} s`, details: { txHash: hash } });
    }
    await new Promise((r) => setTimeout(r, pause));
    pause = Math.min(pause * 2, publicClient.pollingInterval);
  }
}
