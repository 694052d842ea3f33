// Sending transactions from one account without nonce races. Every role sends from one key, often
// several transactions at once (a provider opening two deals, a job creator settling while
// another job opens); letting each call pick its nonce makes all but one fail with "nonce too
// low". Here each (node, account) pair has one queue: a transaction is estimated, given the next
// nonce and handed to the node one at a time, and only the wait for its receipt runs in parallel.
// A nonce the node refuses as used (another process sent from the same key, or the node lagged)
// is re-read and the send retried; anything else (a revert, an unreachable node) is the caller's.
import { NonceTooLowError, BaseError, type Abi, type Address, type ContractFunctionArgs, type ContractFunctionName, type Hash } from "viem";
import { requireAccount, type LilyClient } from "./client.ts";

/** How many times a send is retried after the node says its nonce was already used. */
const NONCE_RETRIES = 8;

const queues = new Map<string, Promise<unknown>>();

/** Run `send(nonce)` in the account's queue with the next free nonce, retrying used nonces. */
async function inAccountQueue(client: LilyClient, send: (nonce: number) => Promise<Hash>): Promise<Hash> {
  const { account, publicClient } = requireAccount(client);
  const key = `${client.rpcUrl}|${account.address.toLowerCase()}`;
  const run = async (): Promise<Hash> => {
    for (let attempt = 0; ; attempt++) {
      // The node's count of the account's transactions, pending ones included, is the next nonce:
      // nothing is remembered here, so a reorg, a dropped transaction or a chain reset can never
      // leave this process sending from a nonce the chain will not reach.
      const nonce = await publicClient.getTransactionCount({ address: account.address, blockTag: "pending" });
      try {
        return await send(nonce);
      } catch (e) {
        if (attempt < NONCE_RETRIES && isUsedNonce(e)) continue;
        throw e;
      }
    }
  };
  const result = (queues.get(key) ?? Promise.resolve()).then(run, run);
  // The next send waits for this one to be handed over, whether it succeeded or not.
  queues.set(
    key,
    result.catch(() => undefined),
  );
  return result;
}

function isUsedNonce(e: unknown): boolean {
  return e instanceof BaseError && e.walk((x) => x instanceof NonceTooLowError) instanceof NonceTooLowError;
}

export interface WriteRequest<abi extends Abi, name extends ContractFunctionName<abi, "nonpayable" | "payable">> {
  address: Address;
  abi: abi;
  functionName: name;
  args: ContractFunctionArgs<abi, "nonpayable" | "payable", name>;
  /** A fixed gas limit (skips estimation, so a call that would revert is mined and reverts). */
  gas?: bigint;
}

/** Call a contract function in a transaction from the client's account; returns its hash once the node accepted it. */
export function writeContract<const abi extends Abi, name extends ContractFunctionName<abi, "nonpayable" | "payable">>(
  client: LilyClient,
  request: WriteRequest<abi, name>,
): Promise<Hash> {
  const { walletClient, publicClient, account } = requireAccount(client);
  return inAccountQueue(client, async (nonce) => {
    // Estimated here (a call that would revert fails now, with its reason, and sends nothing), then
    // given headroom: the state can change before the transaction is mined, and a lock that finds
    // the locked pool emptied meanwhile writes a zero slot again (~17k gas more). Unused gas is
    // refunded, so the margin costs nothing when it is not needed.
    const gas = request.gas ?? withHeadroom(await publicClient.estimateContractGas({ ...request, account } as never));
    return walletClient.writeContract({ ...request, gas, nonce } as never);
  });
}

/** An estimate plus a quarter and 20k gas: more than one storage slot going from zero to non-zero. */
export function withHeadroom(estimate: bigint): bigint {
  return estimate + estimate / 4n + 20_000n;
}

/** Send ETH from the client's account; returns the transaction's hash once the node accepted it. */
export function sendValue(client: LilyClient, { to, value }: { to: Address; value: bigint }): Promise<Hash> {
  const { walletClient } = requireAccount(client);
  return inAccountQueue(client, (nonce) => walletClient.sendTransaction({ to, value, nonce } as never));
}
