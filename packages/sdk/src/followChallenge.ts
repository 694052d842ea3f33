// followChallenge: a challenge the job creator sent, followed until its window closes. A chain node
// can lose its last blocks (anvil restarted from its state file; a reorg on a real chain) and a
// confirmed challenge with them: the deal is committed again and, unchallenged when the window
// closes, the job creator pays for the result it disputed. So the chain is looked at again and
// again (the rule is challengeStep), and a challenge found lost is sent again with the same reason.
// The gateway follows each challenge it sends for its users this way, `lily challenge --follow` one.
import { setTimeout as sleep } from "node:timers/promises";
import type { Hex } from "viem";
import { dealRecord, type DealStateName } from "@lily/chain";
import { LilyError } from "@lily/protocol";
import type { JobCreatorContext } from "./context.ts";
import { challengeJob, refuseRouted } from "./challengeJob.ts";
import { challengeStep } from "./challengeStep.ts";

export interface FollowChallengeParams {
  jobOfferId: Hex;
  /** The reason the challenge was sent with (text of at most 32 bytes, or a bytes32): a lost one is sent again with it. */
  reason?: Hex;
  /** Stops following between two looks; the promise then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** The pause after one look ends and before the next starts (default 1000 ms). */
  intervalMs?: number;
  onProgress?: (p: ChallengeProgress) => void;
}

/** What one look found or did. Chain times are the chain's unix seconds. */
export type ChallengeProgress =
  | {
      kind: "looked";
      state: DealStateName;
      now: bigint;
      /** When the challenge window closes; undefined while the commit itself is lost (state none or open). */
      windowClosesAt?: bigint;
      /** Until when a lost commit may come again (the deal's deadline). */
      deadline: bigint;
    }
  | { kind: "sentAgain"; txHash: Hex }
  /** The look or the resend failed (a node away, the state moved meanwhile): the next look tries again. */
  | { kind: "lookFailed"; error: unknown };

export interface ChallengeOutcome {
  jobOfferId: Hex;
  dealId: Hex;
  /** The deal's state on chain once nothing can be challenged any more. */
  state: DealStateName;
  /** The challenges sent again because the chain node had lost the one before. */
  sentAgain: Hex[];
  /** Committed when the window closed: the challenge was lost and could not be sent again in time. */
  lost: boolean;
}

export const DEFAULT_FOLLOW_INTERVAL_MS = 1000;

/** Follow the challenge of a job's deal until its window closes, sending it again whenever the chain lost it. */
export async function followChallenge(ctx: JobCreatorContext, p: FollowChallengeParams): Promise<ChallengeOutcome> {
  const entry = ctx.journal.get(p.jobOfferId);
  if (!entry?.deal || !entry.dealId)
    throw new LilyError({ code: "NOT_FOUND", field: "id", message: `job ${p.jobOfferId} has no deal whose challenge could be followed` });
  const { deal, dealId } = entry;
  // REJECT: a routed trust deal has no challenge to follow; looking again and again would never end
  refuseRouted(ctx, dealId, deal);
  const intervalMs = p.intervalMs ?? DEFAULT_FOLLOW_INTERVAL_MS;
  const sentAgain: Hex[] = [];
  for (;;) {
    if (p.signal?.aborted) throw p.signal.reason;
    try {
      // The time before the state: a window that closed in between costs at most a resend the contract refuses.
      const now = (await ctx.chain.publicClient.getBlock({ blockTag: "latest" })).timestamp;
      const onChain = await dealRecord(ctx.chain, { dealId });
      const step = challengeStep(onChain, deal, now);
      if (step === "done") return { jobOfferId: p.jobOfferId, dealId, state: onChain.state, sentAgain, lost: onChain.state === "committed" };
      const lostCommit = onChain.state === "none" || onChain.state === "open";
      p.onProgress?.({
        kind: "looked",
        state: onChain.state,
        now,
        windowClosesAt: lostCommit ? undefined : onChain.committedAt + deal.policyParam,
        deadline: deal.deadline,
      });
      if (step === "again") {
        const sent = await challengeJob(ctx, p.jobOfferId, p.reason);
        sentAgain.push(sent.txHash);
        p.onProgress?.({ kind: "sentAgain", txHash: sent.txHash });
      }
    } catch (error) {
      p.onProgress?.({ kind: "lookFailed", error });
    }
    // The next look is scheduled only once this one ended, so a slow node never has two in flight.
    // An abort ends the pause early; the loop's first line then rejects with the signal's reason.
    await sleep(intervalMs, undefined, { signal: p.signal }).catch(() => undefined);
  }
}
