import type { Hex } from "viem";
import type { DealMessage } from "@lily/protocol";
import { lilyDealsAbi } from "../generated/artifacts.ts";
import { requireAccount, type LilyClient } from "../client.ts";
import { confirm, written, type WriteResult } from "../confirm.ts";
import { dealId } from "../deal.ts";
import { withLilyErrors } from "../errors.ts";
import { writeContract } from "../send.ts";

export interface LockDrawParameters {
  /** A challenged deal; for a replica group, its first disputed replica in provider order. */
  deal: DealMessage;
}

export interface LockDrawReturnType extends WriteResult {
  dealId: Hex;
}

/**
 * Fix the mediator draw of a challenged deal, so it outlives the 256 blocks whose hashes the
 * chain keeps; from then on only time passes the turn to the next mediator. Any account may
 * send it; the drawn mediator does before it re-runs the job. Fails with DealsDrawAlreadyLocked
 * (CONFLICT) when it is fixed already.
 */
export async function lockDraw(client: LilyClient, { deal }: LockDrawParameters): Promise<LockDrawReturnType> {
  const { addresses } = requireAccount(client);
  return withLilyErrors(async () => {
    const hash = await writeContract(client, { address: addresses.deals, abi: lilyDealsAbi, functionName: "lockDraw", args: [deal] });
    return { ...written(await confirm(client, hash)), dealId: dealId(addresses, deal) };
  });
}
