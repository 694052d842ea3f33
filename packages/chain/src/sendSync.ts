// Handing a signed transaction to the node, and its receipt straight back where the node gives it.
// A node that mines on arrival (the devnet's anvil) answers `eth_sendRawTransactionSync`
// (EIP-7966) with the receipt once the transaction is mined, a few milliseconds later. With a plain
// send the receipt was asked for ~1.9 times a transaction (the first look often came before the
// block): at load ~3.4 of a provider's ~23 requests a job. The receipt is kept here for `confirm`,
// which then asks nothing.
//
// Any other node sees plain sends, after at most one try per node URL: one that does not know the
// method gets the same signed transaction as a plain send; one that does not answer within
// SYNC_SEND_MS (it mines in blocks, or not at all for now) has the transaction in its pool, and
// its receipt is waited for as before. Either way, sends to it are plain from then on, since the
// account's next send waits for this one (send.ts) and must not wait for a block.
import { formatTransactionReceipt, keccak256, type Hash, type Hex, type TransactionReceipt } from "viem";
import { getTransactionError } from "viem/utils";
import { requireAccount, type LilyClient, type LilyWriteClient } from "./client.ts";

/** How long a send waits for the node to answer with a receipt before it counts as a node that does not mine on arrival. */
export const SYNC_SEND_MS = 2_000;

/** The node URLs that did not answer a send with its receipt: they get plain sends. */
const plainNodes = new Set<string>();
/** Receipts that came with their sends, by hash, until `confirm` takes them. */
const receipts = new Map<string, TransactionReceipt>();
/** A sender that never confirms keeps no more than this many. */
const MAX_KEPT_RECEIPTS = 1_000;

/** The receipt that came with this transaction's send, once (confirm.ts). */
export function takeSentReceipt(hash: Hash): TransactionReceipt | undefined {
  const receipt = receipts.get(hash.toLowerCase());
  receipts.delete(hash.toLowerCase());
  return receipt;
}

/** Sign a prepared transaction with the client's account and hand it to the node; its hash once the node has it. */
export async function sendSigned(client: LilyClient, prepared: Record<string, unknown>): Promise<Hash> {
  const writer = requireAccount(client);
  const { walletClient, account } = writer;
  const { account: _account, from: _from, ...tx } = prepared;
  try {
    const serialized = await account.signTransaction(
      { ...tx, chainId: walletClient.chain.id } as never,
      {
        serializer: walletClient.chain.serializers?.transaction,
      } as never,
    );
    if (plainNodes.has(client.rpcUrl)) return await sendRaw(writer, serialized);
    return await sendSync(writer, serialized);
  } catch (e) {
    // The errors a plain sendTransaction throws (a used nonce, a revert with its reason), so callers branch as before.
    throw getTransactionError(e as never, { ...tx, account, chain: walletClient.chain } as never);
  }
}

async function sendSync(client: LilyWriteClient, serialized: Hex): Promise<Hash> {
  const { walletClient } = client;
  const hash = keccak256(serialized);
  const timeout = AbortSignal.timeout(SYNC_SEND_MS);
  try {
    const raw = await walletClient.request({ method: "eth_sendRawTransactionSync", params: [serialized] } as never, { retryCount: 0, signal: timeout });
    keep(hash, formatTransactionReceipt(raw as never));
    return hash;
  } catch (e) {
    if (timeout.aborted) {
      // The node has it (or loses it, which confirm finds out), but does not mine on arrival.
      plainNodes.add(client.rpcUrl);
      return hash;
    }
    if (!unknownMethod(e)) throw e;
    plainNodes.add(client.rpcUrl);
    return sendRaw(client, serialized);
  }
}

function sendRaw(client: LilyWriteClient, serialized: Hex): Promise<Hash> {
  return client.walletClient.request({ method: "eth_sendRawTransaction", params: [serialized] } as never, { retryCount: 0 }) as Promise<Hash>;
}

/** A node's "no such method" (JSON-RPC -32601, or a message saying so: nodes word it differently). */
function unknownMethod(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  const text = String((e as { details?: unknown }).details ?? (e as Error).message ?? "");
  return code === -32601 || /method.*(not found|not supported|does not exist|unsupported)|unknown method/i.test(text);
}

function keep(hash: Hash, receipt: TransactionReceipt): void {
  if (receipts.size >= MAX_KEPT_RECEIPTS) receipts.delete(receipts.keys().next().value!);
  receipts.set(hash.toLowerCase(), receipt);
}
