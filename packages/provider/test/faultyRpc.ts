// A real JSON-RPC hop between a provider and anvil that answers the next few transactions the way
// a node does when their nonce was already used ("nonce too low"), as when another process sends
// from the same key. Everything else is passed through untouched.
import { startRpcHop } from "../../../test/support/rpcHop.ts";

export interface FaultyRpc {
  url: string;
  /** How many transactions are still to be answered "nonce too low". */
  readonly faultsLeft: number;
  close(): Promise<void>;
}

/** Both ways of handing a node a transaction: plain, and with its receipt back (EIP-7966). */
const SENDS = ["eth_sendRawTransaction", "eth_sendRawTransactionSync"];

export async function startFaultyRpc(upstream: string, faults: number): Promise<FaultyRpc> {
  let left = faults;
  const hop = await startRpcHop(upstream, (call) => {
    if (!SENDS.includes(call.method) || left === 0) return undefined;
    left--;
    return { code: -32003, message: "nonce too low" };
  });
  return {
    url: hop.url,
    get faultsLeft() {
      return left;
    },
    close: hop.close,
  };
}
