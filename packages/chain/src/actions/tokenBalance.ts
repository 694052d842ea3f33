import type { Address } from "viem";
import { lilyTokenAbi } from "../generated/artifacts.ts";
import { requireAccount, type LilyClient } from "../client.ts";
import { withLilyErrors } from "../errors.ts";

export interface TokenBalanceParameters {
  /** Defaults to the client's account. */
  account?: Address;
}

/** The LILY an address holds in its wallet (not in escrow), in wei. */
export async function tokenBalance(client: LilyClient, { account }: TokenBalanceParameters = {}): Promise<bigint> {
  const owner = account ?? requireAccount(client).account.address;
  return withLilyErrors(() =>
    client.publicClient.readContract({ address: client.addresses.token, abi: lilyTokenAbi, functionName: "balanceOf", args: [owner] }),
  );
}
