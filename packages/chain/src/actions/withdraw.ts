import type { Address } from "viem";
import { lilyDealsAbi } from "../generated/artifacts.ts";
import { requireAccount, type LilyClient } from "../client.ts";
import { confirm, written, type WriteResult } from "../confirm.ts";
import { withLilyErrors } from "../errors.ts";
import { writeContract } from "../send.ts";

export interface WithdrawParameters {
  /** LILY in wei, taken from the account's free escrow balance (never from locked funds). */
  amount: bigint;
  /** The escrow contract to withdraw from: LilyDeals by default, or LilyLeases. */
  escrow?: Address;
}

/** Withdraw LILY from escrow back to the account's wallet. */
export async function withdraw(client: LilyClient, { amount, escrow }: WithdrawParameters): Promise<WriteResult> {
  const { addresses } = requireAccount(client);
  return withLilyErrors(async () => {
    const hash = await writeContract(client, { address: escrow ?? addresses.deals, abi: lilyDealsAbi, functionName: "withdraw", args: [amount] });
    return written(await confirm(client, hash));
  });
}
