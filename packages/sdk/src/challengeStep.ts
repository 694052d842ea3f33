// What a job creator does about a challenge it sent, as a pure function of where the deal stands on
// chain and the chain's time. A chain node can lose its last blocks (anvil restarted from its state
// file; a reorg on a real chain) and a confirmed challenge with them: the deal is committed again,
// and unless the job creator challenges again before the window closes, it pays for the result it
// disputed. followChallenge asks this at each look.
import type { DealStateName } from "@lily/chain";

export type ChallengeStep = "again" | "follow" | "done";

/**
 * What to do with a challenge we sent, from the deal's record on chain and the chain's time (unix
 * seconds). The window is the chain's: `committedAt + window` (a commit the node lost and the
 * provider sent again opens a new one).
 */
export function challengeStep(
  onChain: { state: DealStateName; committedAt: bigint },
  deal: { policyParam: bigint; deadline: bigint },
  now: bigint,
): ChallengeStep {
  const windowOpen = now < onChain.committedAt + deal.policyParam;
  switch (onChain.state) {
    case "committed":
      return windowOpen ? "again" : "done";
    case "none":
    case "open":
      // The commit went with the lost blocks too: a new one (and a new window) may still come.
      return now <= deal.deadline ? "follow" : "done";
    default:
      // Challenged or ended: the blocks that did it may still be lost while the window is open.
      return windowOpen ? "follow" : "done";
  }
}
