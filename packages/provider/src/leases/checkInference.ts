// Whether the provider answers one request under a lease, and what it holds for it: a pure check
// made once the prompt's tokens are counted and before anything is generated. The payer pays by
// voucher after each answer, so the provider gives credit; these rules bound it: never more than
// the lease's budget can pay (answers in flight included), and never more unpaid than a few answers.
import { LilyError, answerCost, type InferenceRequest, type Lease } from "@lily/protocol";
import type { LocalLease } from "./leaseBook.ts";

export interface InferenceView {
  lease: Pick<LocalLease, "state" | "owed" | "voucher"> & { lease: Lease };
  request: InferenceRequest;
  /** The prompt's tokens, as the model counts them. */
  inputTokens: number;
  /** The model's context: prompt and answer together. */
  contextLength: number;
  /** Worst-case cost of the answers in flight under this lease. */
  reserved: bigint;
  /** How many worst-case answers the payer may leave unpaid (owed above its latest voucher). */
  creditAnswers: number;
  /** Unix seconds. */
  now: number;
}

export interface Admitted {
  /** The most the answer can cost: its prompt and the longest answer the context leaves room for. */
  worstCase: bigint;
  /** The most tokens it can generate. */
  maxOutputTokens: number;
}

export function checkInference(v: InferenceView): Admitted {
  const { lease } = v.lease;
  checkServing(v.lease, v.now);
  // REJECT: the lease's model only
  if (v.request.model !== lease.model)
    throw new LilyError({
      code: "INVALID_INPUT",
      field: "request.model",
      message: `request.model: ${v.request.model} is not the lease's model ${lease.model}`,
    });
  // REJECT: a prompt that leaves no room for one answer token
  const field = v.request.kind === "chat" ? "request.messages" : "request.prompt";
  if (v.inputTokens >= v.contextLength)
    throw new LilyError({
      code: "INVALID_INPUT",
      field,
      message: `${field}: ${v.inputTokens} tokens, but the model's context holds ${v.contextLength} (prompt and answer together)`,
      details: { contextLengthExceeded: true, inputTokens: v.inputTokens, contextLength: v.contextLength },
    });
  const maxOutputTokens = Math.min(v.request.maxTokens, v.contextLength - v.inputTokens);
  const worstCase = answerCost(lease, v.inputTokens, maxOutputTokens);
  checkCredit(v.lease, worstCase, v.reserved, v.creditAnswers);
  return { worstCase, maxOutputTokens };
}

/** REJECT unless the lease is open on chain and not expired (`now` in unix seconds). */
export function checkServing(l: Pick<LocalLease, "state"> & { lease: Lease }, now: number): void {
  // REJECT: only a lease open on chain is served
  if (l.state !== "open") throw new LilyError({ code: "CONFLICT", field: "lease", message: `lease is ${l.state}, not open on chain` });
  // REJECT: no service after the lease expires
  if (BigInt(now) >= l.lease.expiresAt) throw new LilyError({ code: "DEADLINE_PASSED", field: "lease", message: `lease expired at ${l.lease.expiresAt}` });
}

/** REJECT unless the budget pays `worstCase` beside what is owed and `reserved`, and the payer has not left too much unpaid. */
export function checkCredit(l: Pick<LocalLease, "owed" | "voucher"> & { lease: Lease }, worstCase: bigint, reserved: bigint, creditAnswers: number): void {
  // REJECT: the lease's budget must pay the worst case beside what is owed and in flight
  const left = l.lease.budget - l.owed - reserved;
  if (worstCase > left)
    throw new LilyError({
      code: "INSUFFICIENT_DEPOSIT",
      field: "lease.budget",
      message: `lease.budget: this request may cost ${worstCase}, and ${left < 0n ? 0n : left} of the budget is left`,
      hint: "open a new lease",
      details: { worstCase: worstCase.toString(), left: left.toString() },
    });
  // REJECT: the payer pays each answer by voucher; one that stopped paying gets no more credit
  const unpaid = l.owed - l.voucher.amount;
  const credit = worstCase * BigInt(creditAnswers);
  if (unpaid > credit)
    throw new LilyError({
      code: "INSUFFICIENT_DEPOSIT",
      field: "voucher",
      message: `voucher: ${unpaid} is owed above the latest voucher (${l.voucher.amount}), more than the ${credit} of credit this provider gives`,
      hint: "send the voucher for the answers already given",
      details: { owed: l.owed.toString(), paid: l.voucher.amount.toString(), credit: credit.toString() },
    });
}
