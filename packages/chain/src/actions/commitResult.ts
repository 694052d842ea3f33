import { parseEventLogs, type Hex } from "viem";
import type { DealMessage } from "@lily/protocol";
import { lilyDealsAbi } from "../generated/artifacts.ts";
import { requireAccount, type LilyClient } from "../client.ts";
import { confirm, written, type WriteResult } from "../confirm.ts";
import { dealId } from "../deal.ts";
import { withLilyErrors } from "../errors.ts";
import { writeContract } from "../send.ts";

export interface CommitResultParameters {
  deal: DealMessage;
  /** The hash of the result record the provider stands behind. */
  resultDigest: Hex;
}

export interface CommitResultReturnType extends WriteResult {
  dealId: Hex;
  /** Whether the deal's policy settled it in the same transaction (always, under `trust`). */
  settled: boolean;
}

/** Commit a deal's result, as its provider, at or before the deadline. */
export async function commitResult(client: LilyClient, { deal, resultDigest }: CommitResultParameters): Promise<CommitResultReturnType> {
  const { addresses } = requireAccount(client);
  return withLilyErrors(async () => {
    const hash = await writeContract(client, {
      address: addresses.deals,
      abi: lilyDealsAbi,
      functionName: "commitResult",
      args: [deal, resultDigest],
    });
    const receipt = await confirm(client, hash);
    const settled = parseEventLogs({ abi: lilyDealsAbi, logs: receipt.logs, eventName: "DealSettled" }).length > 0;
    return { ...written(receipt), dealId: dealId(addresses, deal), settled };
  });
}
