import type { Address } from "viem";
import type { ComparatorName, DealMessage } from "@lily/protocol";
import { lilyDealsAbi } from "../generated/artifacts.ts";
import { sortReplicas } from "../deal.ts";
import { requireAccount, type LilyClient } from "../client.ts";
import { confirm, written, type WriteResult } from "../confirm.ts";
import { withLilyErrors } from "../errors.ts";
import { comparatorId } from "./rule.ts";
import { writeContract } from "../send.ts";

export interface RuleReplicasParameters {
  /** The whole group, in any order (the order of `correct`). */
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
  const { addresses } = requireAccount(client);
  // Verdicts travel with their deals into the contract's order; a count mismatch is left for the contract to name.
  const order = sortReplicas(
    deals.map((deal, i) => ({ deal, i })),
    (x) => x.deal,
  );
  const sorted = order.map(({ deal, i }) => ({ deal, correct: correct[i] }));
  return withLilyErrors(async () => {
    const hash = await writeContract(client, {
      address: addresses.deals,
      abi: lilyDealsAbi,
      functionName: "ruleReplicas",
      args: [sorted.map((x) => x.deal), [...mediators], sorted.flatMap((x) => (x.correct === undefined ? [] : [x.correct])), comparatorId(comparator)],
    });
    return written(await confirm(client, hash));
  });
}
