// What to do next with a dispute, as a pure function of what the mediator has recorded about it,
// what the chain says now, and who the mediator is. No I/O: the mediator (mediator.ts) reads the
// chain into a `ChainView`, asks for the next step, does it, and asks again, so every decision
// below is a table test (test/nextStep.test.ts).
//
//   resolve-terms ─▶ party? ─▶ observe ─▶ still disputed? ─▶ timed out? ─▶ resolve-mediators ─▶ listed?
//     ─▶ drawn yet? ─▶ my turn? ─▶ lock-draw ─▶ re-run ─▶ (observe again) ─▶ rule
import { isAddressEqual, type Address, type Hex } from "viem";
import type { DealMessage, Hex32 } from "@lily/protocol";
import type { DealStateName } from "@lily/chain";
import type { Dispute } from "./dispute.ts";
import { nextDrawChange, nextTurnAt } from "./drawSchedule.ts";

/** One disputed deal as the chain stores it. */
export interface DealOnChain {
  state: DealStateName;
  /** The committed result digest, if any. */
  digest?: Hex32;
  drawBlock: number;
  /** Chain time (unix seconds) the mediation began. */
  challengedAt: number;
  /** The draw's seed once `lockDraw` fixed it; 0n before. */
  seed: bigint;
}

/** What the chain says about a dispute, read at one moment. */
export interface ChainView {
  /** The latest block and its timestamp (the time the contract's turn is computed from). */
  block: number;
  /** The latest block's hash: what a record made from this view relies on. */
  blockHash?: Hex;
  time: number;
  /** Each of the dispute's deals, in the dispute's order. */
  deals: DealOnChain[];
  /**
   * Whose turn it is to rule, asked only while a deal is disputed and this mediator is listed;
   * "not-drawn-yet" until the draw's block is mined.
   */
  turn?: Address | "not-drawn-yet";
  /** A ruling already on chain, looked for once no deal is disputed any more. */
  ruled?: { txHash: Hex; mediator: Address };
}

export interface StepContext {
  /** This mediator. */
  me: Address;
  /** The deployment's MEDIATOR_TURN and MEDIATION_TIMEOUT, seconds. */
  mediatorTurnSeconds: number;
  mediationTimeoutSeconds: number;
}

export type Step =
  | { kind: "resolve-terms" } // decode the disputed deal(s) from the transaction that raised it
  | { kind: "observe" } // read the chain into a ChainView
  | { kind: "not-mine"; reason: string } // final: never ours to rule on
  | { kind: "ruled"; txHash: Hex } // final: our ruling is on chain (sent before a crash)
  | { kind: "resolve-mediators" } // find the mediator list both parties accepted
  | { kind: "wait"; reason: string; recheckBlock?: number; recheckAt?: number } // look again then
  | { kind: "lock-draw"; deal: DealMessage } // fix the draw, so the turn outlives the block hashes
  | { kind: "re-run" } // re-run the job and judge what each provider committed
  | { kind: "rule" }; // send the ruling

/** Deal states nothing can move on from. */
const ENDED: readonly DealStateName[] = ["settled", "slashed", "timedOut"];

/** Whether a ruling decided on `digests` (unknown for rulings recorded before they were kept) judged what the chain holds now. */
function judgedThese(digests: readonly (Hex32 | null)[] | undefined, deals: readonly DealOnChain[]): boolean {
  return digests === undefined || (digests.length === deals.length && deals.every((x, i) => (x.digest ?? null) === digests[i]));
}

/** The role `me` has in the dispute, if it is a party: its job creator or one of its providers. */
export function partyRole(deals: readonly DealMessage[], me: Address): "job creator" | "provider" | undefined {
  if (deals.some((d) => isAddressEqual(d.jobCreator, me))) return "job creator";
  if (deals.some((d) => isAddressEqual(d.provider, me))) return "provider";
  return undefined;
}

export function nextStep(d: Dispute, view: ChainView | undefined, ctx: StepContext): Step {
  if (!d.deals) return { kind: "resolve-terms" };
  const role = partyRole(d.deals, ctx.me);
  // REJECT: nobody rules on a dispute they are party to, even if both parties listed them
  if (role) return { kind: "not-mine", reason: `we are a party to the dispute (its ${role})` };
  if (!view) return { kind: "observe" };

  const deals = d.deals;
  const disputed = view.deals.map((onChain, i) => ({ ...onChain, deal: deals[i]! })).filter((x) => x.state === "challenged");
  if (disputed.length === 0) {
    if (view.ruled && isAddressEqual(view.ruled.mediator, ctx.me)) return { kind: "ruled", txHash: view.ruled.txHash };
    const states = view.deals.map((x) => x.state).join(", ");
    if (view.deals.every((x) => ENDED.includes(x.state))) return { kind: "not-mine", reason: `resolved without us (${states})` };
    // Announced, yet neither disputed nor ended: the node lost the blocks that raised it. It may be
    // raised again (the rescan then brings it back at once); until it ends, it is looked at now and then.
    return {
      kind: "wait",
      reason: `the chain no longer has the dispute (${states}): the node lost blocks?`,
      recheckAt: view.time + Math.ceil(ctx.mediatorTurnSeconds / 2),
    };
  }
  // The draw of a group is its first disputed replica's, in provider order (the dispute's order).
  const draw = disputed[0]!;
  const timeoutAt = draw.challengedAt + ctx.mediationTimeoutSeconds;
  // REJECT: from the mediation timeout on, nobody may rule; the deal can only be unwound
  if (view.time >= timeoutAt) return { kind: "not-mine", reason: `its mediation timed out at ${timeoutAt} without our ruling` };
  if (!d.mediators) return { kind: "resolve-mediators" };
  // REJECT: never rule on a deal whose parties did not both accept this mediator
  if (!d.mediators.some((m) => isAddressEqual(m, ctx.me))) return { kind: "not-mine", reason: "not in the mediator list both parties accepted" };
  if (view.turn === undefined) return { kind: "observe" };
  if (view.turn === "not-drawn-yet")
    return { kind: "wait", reason: "the draw's block is not mined yet", recheckBlock: nextDrawChange(draw.drawBlock, view.block) };
  // REJECT: of the accepted mediators, only the one whose turn it is rules
  if (!isAddressEqual(view.turn, ctx.me)) {
    return {
      kind: "wait",
      reason: `mediator ${view.turn} has the turn`,
      recheckAt: Math.min(nextTurnAt(draw.challengedAt, ctx.mediatorTurnSeconds, view.time), timeoutAt),
      // Until the draw is locked, the block hashes can hand the turn on as well.
      ...(draw.seed === 0n && { recheckBlock: nextDrawChange(draw.drawBlock, view.block) }),
    };
  }
  // Our turn: fix the draw before spending it on the re-run, so fast blocks cannot take it away.
  if (draw.seed === 0n) return { kind: "lock-draw", deal: draw.deal };
  // A ruling judges the results the chain held when it was decided; if the node lost blocks and
  // another result was committed since, it is judged again.
  if (!d.ruling || !judgedThese(d.ruling.digests, view.deals)) return { kind: "re-run" };
  return { kind: "rule" };
}
