// The viem clients Lily's chain client is made of, with only the actions Lily calls. viem's
// `createPublicClient` and `createWalletClient` attach every action viem has (ENS, multicall,
// call simulation, EIP-5792 wallets...), so every process that reads the chain loaded and ran all
// of them: about half of viem's code, ~15 ms of each `lily run`'s start-up. These clients are
// `createClient` extended with the actions below, called as methods exactly as before. An action
// not listed here is still available as a function: `import { getProof } from "viem/actions"`,
// then `getProof(client.publicClient, ...)`.
import { createClient, type Account, type Chain, type Client, type PublicActions, type Transport, type WalletActions } from "viem";
import {
  call,
  deployContract,
  getBalance,
  getBlock,
  getBlockNumber,
  getChainId,
  getCode,
  getContractEvents,
  getLogs,
  getTransaction,
  getTransactionCount,
  getTransactionReceipt,
  prepareTransactionRequest,
  readContract,
  sendRawTransaction,
  sendTransaction,
  simulateContract,
  waitForTransactionReceipt,
  writeContract,
} from "viem/actions";

type PublicActionName =
  | "call"
  | "getBalance"
  | "getBlock"
  | "getBlockNumber"
  | "getChainId"
  | "getCode"
  | "getContractEvents"
  | "getLogs"
  | "getTransaction"
  | "getTransactionCount"
  | "getTransactionReceipt"
  | "readContract"
  | "sendRawTransaction"
  | "simulateContract"
  | "waitForTransactionReceipt";
type WalletActionName = "deployContract" | "getChainId" | "prepareTransactionRequest" | "sendTransaction" | "writeContract";

/** A client that reads the chain: viem's public client, with the actions Lily uses. */
export type LilyPublicClient<chain extends Chain = Chain> = Client<Transport, chain> & Pick<PublicActions<Transport, chain>, PublicActionName>;
/** A client that sends from `account`: viem's wallet client, with the actions Lily uses. */
export type LilyWalletClient<chain extends Chain = Chain, account extends Account = Account> = Client<Transport, chain, account> &
  Pick<WalletActions<chain, account>, WalletActionName>;

interface ClientOptions<chain extends Chain> {
  chain: chain;
  transport: Transport;
  pollingInterval?: number;
}

export function lilyPublicClient<chain extends Chain>(options: ClientOptions<chain>): LilyPublicClient<chain> {
  // `satisfies` checks each method against viem's own signature; the casts only get past
  // `extend`'s guard against overriding a client's fields, which none of these names are.
  return createClient(options).extend(
    (client) =>
      ({
        call: (args) => call(client, args),
        getBalance: (args) => getBalance(client, args),
        getBlock: (args) => getBlock(client, args),
        getBlockNumber: (args) => getBlockNumber(client, args),
        getChainId: () => getChainId(client),
        getCode: (args) => getCode(client, args),
        getContractEvents: (args) => getContractEvents(client, args as never),
        getLogs: (args) => getLogs(client, args as never),
        getTransaction: (args) => getTransaction(client, args),
        getTransactionCount: (args) => getTransactionCount(client, args),
        getTransactionReceipt: (args) => getTransactionReceipt(client, args),
        readContract: (args) => readContract(client, args as never),
        sendRawTransaction: (args) => sendRawTransaction(client, args),
        simulateContract: (args) => simulateContract(client, args as never),
        waitForTransactionReceipt: (args) => waitForTransactionReceipt(client, args),
      }) satisfies Pick<PublicActions<Transport, chain>, PublicActionName> as never,
  ) as unknown as LilyPublicClient<chain>;
}

export function lilyWalletClient<chain extends Chain, account extends Account>(
  options: ClientOptions<chain> & { account: account },
): LilyWalletClient<chain, account> {
  return createClient(options).extend(
    (client) =>
      ({
        deployContract: (args) => deployContract(client, args as never),
        getChainId: () => getChainId(client),
        prepareTransactionRequest: (args) => prepareTransactionRequest(client, args as never),
        sendTransaction: (args) => sendTransaction(client, args as never),
        writeContract: (args) => writeContract(client, args as never),
      }) satisfies Pick<WalletActions<chain, account>, WalletActionName> as never,
  ) as unknown as LilyWalletClient<chain, account>;
}
