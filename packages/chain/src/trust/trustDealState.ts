// trustDealState: where the trust deal of (provider, nonce) is.
import type { Address } from "viem";
import { lilyTrustDealsAbi } from "../generated/artifacts.ts";
import type { LilyClient } from "../client.ts";
import { withLilyErrors } from "../errors.ts";
import { trustDealsAddress, trustStates, type TrustStateName } from "./trustDeal.ts";

export interface TrustDealStateParameters {
  provider: Address;
  nonce: bigint;
}

/** "none" (never opened), "open", "settled" or "timedOut". */
export async function trustDealState(client: LilyClient, { provider, nonce }: TrustDealStateParameters): Promise<TrustStateName> {
  const address = trustDealsAddress(client.addresses);
  const state = await withLilyErrors(() =>
    client.publicClient.readContract({ address, abi: lilyTrustDealsAbi, functionName: "stateOf", args: [provider, nonce] }),
  );
  return trustStates[state]!;
}
