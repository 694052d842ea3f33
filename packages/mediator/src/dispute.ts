// The mediator's vocabulary: a dispute is one request for a ruling that the chain announced, on
// one deal (a challenge, an audit that hit) or on a group of replicas with no majority.
import type { Address, Hex } from "viem";
import type { DealMessage, Hex32 } from "@lily/protocol";

export type DisputeKind =
  | "challenge" // optimistic: the job creator challenged the committed result
  | "audit" // audit(p): the draw after the commit selected the deal for a re-run
  | "replicas"; // replicate(k): the replicas' results have no majority

export type DisputeStatus =
  | "seen" // announced on chain; not (yet) ours to rule on: looked at again at `recheckBlock` or `recheckAt`
  | "re-running" // this mediator has the turn and locked the draw; the job is being re-run (or its inputs fetched again)
  | "ruling" // decided; the ruling transaction is being sent (resumed after a crash)
  | "ruled" // the ruling is on chain
  | "not-mine" // we are a party to it, not in the list both parties accepted, or it ended (or timed out) without us
  | "failed"; // could not be ruled on after `maxAttempts` tries (reason in `error`); never retried

export const TERMINAL: readonly DisputeStatus[] = ["ruled", "not-mine", "failed"];

/** What this mediator decided: for each deal of the dispute, was its provider right? */
export interface Ruling {
  correct: boolean[];
  /** The comparator that judged, as the contracts record it. */
  comparator: number;
  /** One line per deal: why. */
  details: string[];
  /** Per deal, the committed result digest judged (null: none); absent in rulings recorded before it was kept. */
  digests?: (Hex32 | null)[];
}

export interface Dispute {
  /** The deal id, or for replicas the id the chain gave the group. */
  key: Hex;
  kind: DisputeKind;
  /** The event that announced it. */
  event: string;
  /** The transaction that raised it; its calldata carries the deal terms. */
  txHash: Hex;
  blockNumber: number;
  status: DisputeStatus;
  /** The disputed deals' terms (one, or the replica group), once resolved and verified. */
  deals?: DealMessage[];
  /** The mediator list both parties accepted (hashes to each deal's `mediators`). */
  mediators?: Address[];
  ruling?: Ruling;
  rulingTx?: Hex;
  /** Why it failed, or why it is not ours (yet). */
  error?: string;
  /**
   * While another mediator has the turn and the draw is not locked: the block at which the block
   * hashes that seed the draw change (every 256 blocks). While the draw's block is not mined: the
   * block after it.
   */
  recheckBlock?: number;
  /**
   * While another mediator has the turn: the chain time (unix seconds) at which the turn passes
   * on (every MEDIATOR_TURN seconds from the challenge), so an absent mediator costs one turn.
   */
  recheckAt?: number;
  /** Failed attempts so far; at the mediator's `maxAttempts` the dispute is `failed`. */
  attempts: number;
}

/** A dispute as first seen in an event log. */
export type DisputeSighting = Pick<Dispute, "key" | "kind" | "event" | "txHash" | "blockNumber">;
