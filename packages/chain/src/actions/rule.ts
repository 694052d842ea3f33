import type { Address, Hex } from "viem";
import type { ComparatorName, DealMessage } from "@lily/protocol";
import { Comparator } from "@lily/protocol";
import { lilyDealsAbi } from "../generated/artifacts.ts";
import { requireAccount, type LilyClient } from "../client.ts";
import { confirm, written, type WriteResult } from "../confirm.ts";
import { dealId } from "../deal.ts";
import { withLilyErrors } from "../errors.ts";
import { writeContract } from "../send.ts";

export interface RuleParameters {
  deal: DealMessage;
  /** The mediators both parties accepted, sorted ascending; must hash to `deal.mediators`. */
  mediators: readonly Address[];
  /** Whether the provider's committed result matches the mediator's re-run. */
  providerCorrect: boolean;
  /** How the outputs were compared, by name or id (0 exact, 1 tolerance, 2 similarity). */
  comparator: ComparatorName | number;
}

export interface RuleReturnType extends WriteResult {
  dealId: Hex;
  /** settled: the provider was right and was paid; slashed: it was wrong. */
  outcome: "settled" | "slashed";
}

/**
 * Rule on a challenged or audited deal, as the mediator drawn for it, before the mediation
 * timeout. The loser pays the mediation fee: the job creator's reserve if the provider was
 * right, the provider's collateral if it was wrong.
 */
export async function rule(client: LilyClient, { deal, mediators, providerCorrect, comparator }: RuleParameters): Promise<RuleReturnType> {
  const { addresses } = requireAccount(client);
  return withLilyErrors(async () => {
    const hash = await writeContract(client, {
      address: addresses.deals,
      abi: lilyDealsAbi,
      functionName: "rule",
      args: [deal, [...mediators], providerCorrect, comparatorId(comparator)],
    });
    return { ...written(await confirm(client, hash)), dealId: dealId(addresses, deal), outcome: providerCorrect ? "settled" : "slashed" };
  });
}

/** A comparator's on-chain id. */
export function comparatorId(comparator: ComparatorName | number): number {
  return typeof comparator === "number" ? comparator : Comparator[comparator];
}
