// Contract reverts and RPC failures as LilyErrors. Custom errors are decoded by ABI (never by
// message text) into a readable sentence, the field at fault, and the error's named arguments.
import {
  BaseError,
  ContractFunctionRevertedError,
  HttpRequestError,
  SocketClosedError,
  TimeoutError,
  WebSocketRequestError,
  decodeErrorResult,
  formatEther,
  type Hex,
} from "viem";
import { LilyError, isLilyError, policyName, type LilyErrorInit } from "@lily/protocol";
import { lilyDealsAbi, lilyTokenAbi } from "./generated/artifacts.ts";
import { dealStates } from "./deal.ts";

/** Every custom error the Lily contracts can revert with. */
export const lilyErrorsAbi = [...lilyDealsAbi, ...lilyTokenAbi].filter((item) => item.type === "error");

type Sentence = Pick<LilyErrorInit, "code" | "message" | "field" | "hint">;
// Decoded arguments by name; uints arrive as bigint, addresses and bytes32 as hex strings.
type Args = Record<string, any>;

const lily = (wei: bigint) => `${formatEther(wei)} LILY`;
const time = (unix: bigint) => new Date(Number(unix) * 1000).toISOString();

const sentences: Record<string, (a: Args) => Sentence> = {
  EscrowInsufficientBalance: (a) => ({
    code: "INSUFFICIENT_DEPOSIT",
    field: "deposit",
    message: `${a.account} has ${lily(a.balance)} free in escrow but ${lily(a.needed)} is needed`,
    hint: `deposit at least ${lily((a.needed as bigint) - (a.balance as bigint))} more`,
  }),
  EscrowZeroAmount: () => ({ code: "CHAIN_REVERT", field: "amount", message: "the amount must be greater than zero" }),
  DealsUnsupportedPolicy: (a) => ({
    code: "CHAIN_REVERT",
    field: "policy",
    message: `verification policy ${policyName(a.policy) ?? a.policy} is not supported by this contract`,
  }),
  DealsDeadlinePassed: (a) => ({
    code: "DEADLINE_PASSED",
    field: "deadline",
    message: `deal ${a.dealId}: its deadline ${time(a.deadline)} has passed (chain time ${time(a.timestamp)})`,
  }),
  DealsDeadlineNotPassed: (a) => ({
    code: "CHAIN_REVERT",
    field: "deadline",
    message: `deal ${a.dealId} cannot time out before its deadline ${time(a.deadline)} (chain time ${time(a.timestamp)})`,
  }),
  DealsAlreadyOpened: (a) => ({ code: "CHAIN_REVERT", message: `deal ${a.dealId} has already been opened` }),
  DealsNotOpen: (a) => ({ code: "CHAIN_REVERT", message: `deal ${a.dealId} is ${dealStates[a.state] ?? a.state}, not open` }),
  DealsInvalidSignature: (a) => ({
    code: "CHAIN_REVERT",
    field: "signature",
    message: `no valid signature by ${a.signer} over these deal terms on this chain and contract`,
  }),
  DealsNotProvider: (a) => ({
    code: "CHAIN_REVERT",
    message: `only the provider of deal ${a.dealId} may commit its result, not ${a.caller}`,
  }),
  ERC20InsufficientBalance: (a) => ({
    code: "CHAIN_REVERT",
    field: "amount",
    message: `${a.sender} holds ${lily(a.balance)} but ${lily(a.needed)} is needed`,
  }),
  ERC20InsufficientAllowance: (a) => ({
    code: "CHAIN_REVERT",
    field: "amount",
    message: `${a.spender} may spend ${lily(a.allowance)} but ${lily(a.needed)} is needed`,
  }),
};

/** Turn anything thrown by viem (or by the node behind it) into a LilyError. */
export function toLilyError(e: unknown): LilyError {
  if (isLilyError(e)) return e;
  if (!(e instanceof BaseError)) {
    return new LilyError({ code: "INTERNAL", message: e instanceof Error ? e.message : String(e), cause: e });
  }
  const unreachable = e.walk((x) => x instanceof HttpRequestError || x instanceof TimeoutError || x instanceof WebSocketRequestError || x instanceof SocketClosedError);
  if (unreachable) {
    const { url, status } = unreachable as { url?: string; status?: number };
    return new LilyError({
      code: "UNREACHABLE",
      message: `the chain RPC${url ? ` at ${url}` : ""} did not answer${status ? ` (HTTP ${status})` : ""}`,
      hint: "check that the node is running and the RPC URL is right",
      details: { rpcUrl: url, status },
      cause: e,
    });
  }
  const data = revertData(e);
  if (data) return fromRevertData(data, e);
  if (e.walk((x) => x instanceof ContractFunctionRevertedError)) {
    return new LilyError({ code: "CHAIN_REVERT", message: `the contract call reverted without a reason`, cause: e });
  }
  return new LilyError({ code: "INTERNAL", message: e.shortMessage, cause: e });
}

/** Run `action`, rethrowing whatever it throws as a LilyError. */
export async function withLilyErrors<T>(action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (e) {
    throw toLilyError(e);
  }
}

/** Decode raw revert data (selector + arguments) into a LilyError. */
export function fromRevertData(data: Hex, cause?: unknown): LilyError {
  let decoded;
  try {
    decoded = decodeErrorResult({ abi: lilyErrorsAbi, data });
  } catch {
    return new LilyError({ code: "CHAIN_REVERT", message: `the contract reverted with unknown error ${data.slice(0, 10)}`, details: { data }, cause });
  }
  const inputs = decoded.abiItem.inputs ?? [];
  const args: Args = Object.fromEntries(inputs.map((input, i) => [input.name ?? String(i), decoded.args?.[i]]));
  const sentence = sentences[decoded.errorName]?.(args) ?? {
    code: "CHAIN_REVERT" as const,
    message: `the contract reverted with ${decoded.errorName}(${Object.values(args).join(", ")})`,
  };
  // bigints as decimal strings, so the error survives JSON on the wire.
  const jsonArgs = Object.fromEntries(Object.entries(args).map(([k, v]) => [k, typeof v === "bigint" ? v.toString() : v]));
  return new LilyError({ ...sentence, details: { error: decoded.errorName, args: jsonArgs }, cause });
}

function revertData(e: BaseError): Hex | undefined {
  let found: Hex | undefined;
  e.walk((x) => {
    const candidate = x instanceof ContractFunctionRevertedError ? x.raw : (x as { data?: unknown }).data;
    const hex = typeof candidate === "object" && candidate !== null ? (candidate as { data?: unknown }).data : candidate;
    if (typeof hex === "string" && /^0x[0-9a-fA-F]{8,}$/.test(hex)) found = hex as Hex;
    return found !== undefined;
  });
  return found;
}
