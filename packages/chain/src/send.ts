// Sending transactions from one account without nonce races. Every role sends from one key, often
// several transactions at once (a provider opening two deals, a job creator settling while
// another job opens); letting each call pick its nonce makes all but one fail with "nonce too
// low". Here each (node, account) pair has one queue: a transaction is estimated, given the next
// nonce and handed to the node one at a time, and only the wait for its receipt runs in parallel.
// A nonce the node refuses as used (another process sent from the same key, or the node lagged)
// is read again and the send retried; anything else (a revert, an unreachable node) is the caller's.
import { NonceTooLowError, BaseError, encodeFunctionData, type Abi, type Address, type ContractFunctionArgs, type ContractFunctionName, type Hash } from "viem";
import { requireAccount, type LilyClient } from "./client.ts";
import { sendSigned } from "./sendSync.ts";

/** How many times a send is retried after the node says its nonce was already used. */
const NONCE_RETRIES = 8;

const queues = new Map<string, Promise<unknown>>();

/**
 * Run `send` in the account's queue, retrying used nonces. `send` leaves the nonce to the node
 * (viem's prepare fills it in with the fees and gas, from `eth_fillTransaction`, else from the
 * account's pending transaction count): the node's count of the account's transactions, pending
 * ones included, is the next nonce. Nothing is remembered here, so a reorg, a dropped transaction
 * or a chain reset can never leave this process sending from a nonce the chain will not reach.
 */
async function inAccountQueue(client: LilyClient, send: () => Promise<Hash>): Promise<Hash> {
  const { account } = requireAccount(client);
  const key = `${client.rpcUrl}|${account.address.toLowerCase()}`;
  const run = async (): Promise<Hash> => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await send();
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
  const { walletClient, account } = requireAccount(client);
  return inAccountQueue(client, async () => {
    // One request fills in the nonce and the fees and estimates the gas (a call that would revert fails now,
    // with its reason, and sends nothing); the transaction then goes out as prepared. Estimating
    // apart and letting viem prepare the send made the node run the call twice before mining it.
    // The estimate gets headroom: the state can change before the transaction is mined, and a
    // lock that finds the locked pool emptied meanwhile writes a zero slot again (~17k gas more).
    // Unused gas is refunded, so the margin costs nothing when it is not needed.
    const data = encodeFunctionData({ abi: request.abi, functionName: request.functionName, args: request.args } as never);
    const prepared = await walletClient.prepareTransactionRequest({ account, to: request.address, data, ...(request.gas && { gas: request.gas }) } as never);
    // viem's prepare always estimates when no gas is given; its type just cannot say so.
    const gas = request.gas ?? withHeadroom(prepared.gas as bigint);
    return sendSigned(client, { ...prepared, gas });
  });
}

/** An estimate plus a quarter and 20k gas: more than one storage slot going from zero to non-zero. */
export function withHeadroom(estimate: bigint): bigint {
  return estimate + estimate / 4n + 20_000n;
}

/** Send ETH from the client's account; returns the transaction's hash once the node accepted it. */
export function sendValue(client: LilyClient, { to, value }: { to: Address; value: bigint }): Promise<Hash> {
  const { walletClient, account } = requireAccount(client);
  return inAccountQueue(client, async () => sendSigned(client, await walletClient.prepareTransactionRequest({ account, to, value } as never)));
}
