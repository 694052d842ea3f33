import type { Address } from "viem";
import type { ComparatorName, DealMessage } from "@lily/protocol";
import { lilyDealsAbi } from "../generated/artifacts.ts";
import { requireAccount, type LilyClient } from "../client.ts";
import { confirm, written, type WriteResult } from "../confirm.ts";
import { withLilyErrors } from "../errors.ts";
import { comparatorId } from "./rule.ts";

export interface RuleReplicasParameters {
  /** The whole group, in the order of `correct`. */
  deals: readonly DealMessage[];
  /** The mediators both parties accepted, sorted ascending; must hash to the deals' `mediators`. */
  mediators: readonly Address[];
  /** Per deal: whether its committed result matches the re-run (ignored for replicas that timed out). */
  correct: readonly boolean[];
  /** How the outputs were compared, by name or id (0 exact, 1 tolerance, 2 similarity). */
  comparator: ComparatorName | number;
}

/**
 * Rule on a `replicate(k)` group whose tally found no majority, as the mediator drawn for the
 * group. Correct replicas are paid, wrong ones slashed; the mediation fee is paid once, out of
 * the first wrong replica's collateral, or out of the job creator's reserve if none was wrong.
 */
export async function ruleReplicas(client: LilyClient, { deals, mediators, correct, comparator }: RuleReplicasParameters): Promise<WriteResult> {
  const { walletClient, addresses } = requireAccount(client);
  return withLilyErrors(async () => {
    const hash = await walletClient.writeContract({
      address: addresses.deals,
      abi: lilyDealsAbi,
      functionName: "ruleReplicas",
      args: [[...deals], [...mediators], [...correct], comparatorId(comparator)],
    });
    return written(await confirm(client, hash));
  });
}
