import type { Address } from "viem";
import { lilyDealsAbi } from "../generated/artifacts.ts";
import { requireAccount, type LilyClient } from "../client.ts";
import { withLilyErrors } from "../errors.ts";

export interface EscrowBalanceParameters {
  /** Defaults to the client's account. */
  account?: Address;
  /** The escrow contract: LilyDeals by default, or LilyLeases (whose balances are separate). */
  escrow?: Address;
}

/** The free (withdrawable, unlocked) escrow balance of an account, in LILY wei. */
export async function escrowBalance(client: LilyClient, { account, escrow }: EscrowBalanceParameters = {}): Promise<bigint> {
  const owner = account ?? requireAccount(client).account.address;
  return withLilyErrors(() =>
    client.publicClient.readContract({ address: escrow ?? client.addresses.deals, abi: lilyDealsAbi, functionName: "balanceOf", args: [owner] }),
  );
}
