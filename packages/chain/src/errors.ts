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
  toFunctionSelector,
  type Hex,
} from "viem";
import { LilyError, isLilyError, policyName, type LilyErrorInit, formatLily as lily } from "@lily/protocol";
import { lilyDealsAbi, lilyLeasesAbi, lilyTokenAbi, lilyTrustDealsAbi, moduleRegistryAbi } from "./generated/artifacts.ts";
import { dealStates } from "./deal.ts";
import { registrySentences } from "./registryErrors.ts";
import { leaseSentences } from "./leaseErrors.ts";
import { trustSentences } from "./trust/trustErrors.ts";

/** Every custom error the Lily contracts can revert with. */
// LilyTrustDeals repeats Escrow's errors; decoding takes the first match, which has the same shape.
export const lilyErrorsAbi = [...lilyDealsAbi, ...lilyTokenAbi, ...moduleRegistryAbi, ...lilyLeasesAbi, ...lilyTrustDealsAbi].filter(
  (item) => item.type === "error",
);

export type Sentence = Pick<LilyErrorInit, "code" | "message" | "field" | "hint">;
// Decoded arguments by name; uints arrive as bigint, addresses and bytes32 as hex strings.
// biome-ignore lint/suspicious/noExplicitAny: each sentence reads its own error's arguments by name
export type Args = Record<string, any>;

const time = (unix: bigint) => new Date(Number(unix) * 1000).toISOString();
const state = (n: number) => dealStates[n] ?? String(n);
const policy = (id: number) => policyName(id) ?? `#${id}`;
const percent = (ppm: bigint) => `${Number(ppm) / 10_000}%`;
const days = (seconds: bigint) => (seconds % 86_400n === 0n ? `${seconds / 86_400n} days` : `${seconds} s`);

/** LilyDeals function names by selector, to name the operation in DealsWrongPolicy. Built when
 * first needed: hashing every function's signature at import cost each process ~4 ms of start-up. */
let operations: Map<Hex, string> | undefined;
const operationName = (selector: Hex): string => {
  operations ??= new Map(lilyDealsAbi.filter((item) => item.type === "function").map((item) => [toFunctionSelector(item), item.name] as const));
  return operations.get(selector) ?? selector;
};

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
    message: `verification policy ${policy(a.policy)} is not supported by this contract`,
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
  DealsOpenByPassed: (a) => ({
    code: "DEADLINE_PASSED",
    field: "openBy",
    message: `deal ${a.dealId} can no longer be opened: its parties gave until ${time(a.openBy)} (chain time ${time(a.timestamp)})`,
    hint: "nothing was locked; the job can be matched again",
  }),
  DealsDeadlineNotAfterOpenBy: (a) => ({
    code: "INVALID_INPUT",
    field: "deadline",
    message: `deal ${a.dealId}: its deadline ${time(a.deadline)} is not after its openBy ${time(a.openBy)}, which would leave the provider no time`,
  }),
  DealsSignatureCountMismatch: (a) => ({
    code: "INVALID_INPUT",
    field: "signatures",
    message: `${a.given} signatures of one party given for a replica group of ${a.k}`,
  }),
  DealsUnexpectedReplicas: (a) => ({
    code: "INVALID_INPUT",
    field: "replicas",
    message: `deal ${a.dealId} names a replica group, but its policy is not replicate`,
  }),
  DealsDrawAlreadyLocked: (a) => ({ code: "CONFLICT", message: `the mediator draw of deal ${a.dealId} is already fixed` }),
  DealsMediatorTurnOutOfRange: (a) => ({
    code: "CONFIG",
    field: "mediatorTurnSeconds",
    message: `a mediator's turn of ${a.turn} s must be positive and at most the mediation timeout (${a.mediationTimeout} s)`,
  }),
  DealsNotOpen: (a) => ({ code: "CHAIN_REVERT", message: `deal ${a.dealId} is ${state(a.state)}, not open` }),
  DealsNotCommitted: (a) => ({
    code: "CHAIN_REVERT",
    message: `deal ${a.dealId} is ${state(a.state)}, not committed: only a committed result can be challenged or finalized`,
  }),
  DealsNotChallenged: (a) => ({
    code: "CHAIN_REVERT",
    message: `deal ${a.dealId} is ${state(a.state)}: it is not waiting for a mediator`,
  }),
  DealsNotJobCreator: (a) => ({
    code: "CHAIN_REVERT",
    message: `only the job creator of deal ${a.dealId} may challenge its result, not ${a.caller}`,
  }),
  DealsWrongPolicy: (a) => ({
    code: "CHAIN_REVERT",
    field: "policy",
    message: `deal ${a.dealId} is under ${policy(a.policy)}, which has no ${operationName(a.operation)}`,
    hint:
      policy(a.policy) === "replicate"
        ? "replicas are settled and ruled on as a group: settleReplicas / ruleReplicas"
        : policy(a.policy) === "audit"
          ? "under audit(p) the job creator cannot challenge: finalize draws whether a mediator re-runs the job"
          : undefined,
  }),
  DealsZeroMediationTimeout: () => ({ code: "CONFIG", field: "mediationTimeoutSeconds", message: "the mediation timeout must be at least one second" }),
  DealsInvalidRoyalty: (a) => ({
    code: "INVALID_INPUT",
    field: "royaltyBps",
    message:
      a.royaltyBps > 10_000
        ? `a royalty of ${a.royaltyBps} basis points exceeds the whole price (at most 10000)`
        : `a royalty of ${a.royaltyBps} basis points needs a module creator to pay it to, not the zero address`,
  }),
  // Safety at open: each sentence says why the parameters are unsafe.
  DealsChallengeWindowOutOfRange: (a) => ({
    code: "INVALID_INPUT",
    field: "policyParam",
    message: `unsafe optimistic policy: a challenge window of ${a.window} s is outside [${a.min} s, ${days(a.max)}]`,
    hint: "a zero window cannot be challenged; a longer one would lock both parties' funds for too long",
  }),
  DealsPolicyNeedsMediators: (a) => ({
    code: "INVALID_INPUT",
    field: "mediators",
    message: `unsafe ${policy(a.policy)} policy: the parties share no mediator, so a dispute could never be ruled on`,
    hint: "the job offer and the resource offer must list at least one common mediator",
  }),
  DealsCollateralBelowMediationFee: (a) => ({
    code: "INVALID_INPUT",
    field: "collateral",
    message: `unsafe policy: the provider's collateral ${lily(a.collateral)} is below the mediation fee ${lily(a.mediationFee)}, so a wrong provider could not pay the mediator`,
  }),
  DealsAuditProbabilityOutOfRange: (a) => ({
    code: "INVALID_INPUT",
    field: "policyParam",
    message: `unsafe audit policy: p = ${a.ppm} ppm is outside (0, ${a.max}] (0 never audits; more than ${a.max} is not a probability)`,
  }),
  DealsAuditCollateralTooLow: (a) => ({
    code: "INVALID_INPUT",
    field: "collateral",
    message: `unsafe audit policy: with p = ${percent(a.ppm)} the expected slash p × ${lily(a.collateral)} is below the price ${lily(a.price)}, so cheating would pay`,
    hint: `raise the collateral to at least ${lily(a.needed)}, or the audit probability`,
  }),
  DealsReplicaCountOutOfRange: (a) => ({
    code: "INVALID_INPUT",
    field: "policyParam",
    message: `unsafe replicate policy: k = ${a.k} is outside [${a.min}, ${a.max}]`,
  }),
  // Optimistic and audit timing.
  DealsChallengeWindowClosed: (a) => ({
    code: "CHAIN_REVERT",
    message: `deal ${a.dealId}: the challenge window closed at ${time(a.closedAt)} (chain time ${time(a.timestamp)}); the result stands`,
  }),
  DealsChallengeWindowOpen: (a) => ({
    code: "CHAIN_REVERT",
    message: `deal ${a.dealId} cannot be finalized while its challenge window is open, until ${time(a.closesAt)} (chain time ${time(a.timestamp)})`,
  }),
  DealsAuditDrawPending: (a) => ({
    code: "CHAIN_REVERT",
    message: `deal ${a.dealId}: the audit is drawn from block ${a.drawBlock}, which is not mined yet (chain at block ${a.blockNumber})`,
    hint: "finalize again once that block exists",
  }),
  // Mediation.
  DealsMediatorSetMismatch: (a) => ({
    code: "INVALID_INPUT",
    field: "mediators",
    message: `${a.key}: the mediator list given hashes to ${a.given}, not to the set ${a.expected} both parties signed`,
    hint: "pass the mediators both offers list, sorted ascending (commonMediators)",
  }),
  DealsMediatorSetEmpty: (a) => ({
    code: "INVALID_INPUT",
    field: "mediators",
    message: `${a.key}: the deal was signed with an empty mediator list, so nobody can rule; it can only time out`,
  }),
  DealsNotMediator: (a) => ({
    code: "CHAIN_REVERT",
    message: `${a.caller} is not among the mediators both parties accepted for ${a.key}`,
  }),
  DealsNotDrawnMediator: (a) => ({
    code: "CHAIN_REVERT",
    message: `${a.caller} was not drawn to rule on ${a.key} now; it is ${a.drawn}'s turn`,
  }),
  DealsMediatorIsParty: (a) => ({
    code: "CHAIN_REVERT",
    message: `${a.caller} is a party to ${a.key}, and nobody rules on a dispute they are party to`,
  }),
  DealsNoEligibleMediator: (a) => ({
    code: "CHAIN_REVERT",
    message: `${a.key}: every accepted mediator is a party to the dispute, so nobody can rule; it can only time out`,
  }),
  DealsMediatorNotDrawnYet: (a) => ({
    code: "CHAIN_REVERT",
    message: `${a.key}: the mediator is drawn from block ${(a.drawBlock as bigint) + 1n}, which is not mined yet (chain at block ${a.blockNumber})`,
    hint: "wait for the next block",
  }),
  DealsMediationTimedOut: (a) => ({
    code: "CHAIN_REVERT",
    message: `deal ${a.dealId}: the time to rule ended at ${time(a.deadline)} (chain time ${time(a.timestamp)}); it can only be unwound`,
  }),
  DealsMediationNotTimedOut: (a) => ({
    code: "CHAIN_REVERT",
    message: `deal ${a.dealId} cannot be unwound before ${time(a.deadline)} (chain time ${time(a.timestamp)})`,
  }),
  // Replica groups.
  DealsNotReplicated: (a) => ({
    code: "INVALID_INPUT",
    field: "deals",
    message: `the deals for job offer ${a.jobOffer} are under ${policy(a.policy)}, not replicate`,
  }),
  DealsReplicaCountMismatch: (a) => ({
    code: "INVALID_INPUT",
    field: "deals",
    message: `job offer ${a.jobOffer}: ${a.given} deals given for a replica group of k = ${a.k}`,
  }),
  DealsNotSameReplicaGroup: (a) => ({
    code: "INVALID_INPUT",
    field: `deals[${a.index}]`,
    message: `deal ${a.index} is not a replica of job offer ${a.jobOffer}: its job offer, job creator, policy, k, mediators, mediation fee or group differ`,
  }),
  DealsReplicasNotSorted: (a) => ({
    code: "INVALID_INPUT",
    field: `deals[${a.index}]`,
    message: `job offer ${a.jobOffer}: replica ${a.index} is not after the one before it in ascending provider order (or repeats its provider)`,
    hint: "pass a group's deals sorted by provider address",
  }),
  DealsReplicaGroupMismatch: (a) => ({
    code: "CHAIN_REVERT",
    field: "deals",
    message: `job offer ${a.jobOffer}: these replicas' providers hash to ${a.given}, not to the group ${a.expected} each of them signed`,
  }),
  DealsReplicaNotReady: (a) => ({
    code: "CHAIN_REVERT",
    message: `replica ${a.dealId} is ${state(a.state)}; a tally needs every replica committed or timed out, a ruling every replica challenged or timed out`,
  }),
  DealsNoCommittedReplica: (a) => ({
    code: "CHAIN_REVERT",
    message: `job offer ${a.jobOffer}: every replica timed out, so there is nothing to tally`,
  }),
  DealsRulingCountMismatch: (a) => ({
    code: "INVALID_INPUT",
    field: "correct",
    message: `${a.rulings} verdicts given for a replica group of ${a.deals}`,
  }),
  DealsBatchLengthMismatch: (a) => ({
    code: "INVALID_INPUT",
    field: "batch",
    message: `a batch of ${a.items} deals came with ${a.given} entries of another per-deal list (signatures or result digests)`,
  }),
  DealsReplicaDrawMismatch: (a) => ({
    code: "CHAIN_REVERT",
    message: `replica ${a.dealId} went to mediation at block ${a.drawBlock}, not with its group (block ${a.expected})`,
  }),
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
  ...registrySentences,
  ...leaseSentences,
  ...trustSentences,
};

/** The custom errors that have a readable sentence (the rest fall back to their name and arguments). */
export const explainedErrors: ReadonlySet<string> = new Set(Object.keys(sentences));

/** Turn anything thrown by viem (or by the node behind it) into a LilyError. */
export function toLilyError(e: unknown): LilyError {
  if (isLilyError(e)) return e;
  if (!(e instanceof BaseError)) {
    return new LilyError({ code: "INTERNAL", message: e instanceof Error ? e.message : String(e), cause: e });
  }
  const unreachable = e.walk(
    (x) => x instanceof HttpRequestError || x instanceof TimeoutError || x instanceof WebSocketRequestError || x instanceof SocketClosedError,
  );
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
  let decoded: ReturnType<typeof decodeErrorResult<typeof lilyErrorsAbi>>;
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

/**
 * Run a read, waiting out a chain node that does not answer (restarting, not up yet) for up to
 * `waitMs` with backoff; any other error, or a silence longer than that, is thrown. For a role's
 * start-up reads: a node away for seconds must not stop a role from starting.
 */
export async function untilChainAnswers<T>(read: () => Promise<T>, opts: { waitMs?: number; onWait?: (e: LilyError) => void } = {}): Promise<T> {
  const until = Date.now() + (opts.waitMs ?? 60_000);
  for (let delay = 250; ; delay = Math.min(delay * 2, 2000)) {
    try {
      return await read();
    } catch (e) {
      const err = toLilyError(e);
      if (err.code !== "UNREACHABLE" || Date.now() + delay > until) throw err;
      opts.onWait?.(err);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
