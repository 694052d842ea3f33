import type { Hex } from "viem";
import { lilyDealsAbi } from "../generated/artifacts.ts";
import type { LilyClient } from "../client.ts";
import { dealStates, type DealStateName } from "../deal.ts";
import { withLilyErrors } from "../errors.ts";

export interface DealRecordParameters {
  dealId: Hex;
}

/** What the contract stores about a deal; zero where not applicable. */
export interface DealRecordReturnType {
  state: DealStateName;
  /** The committed result digest (zero under trust, which stores none). */
  resultDigest: Hex;
  /** Unix seconds and block of commitResult (policies other than trust). */
  committedAt: bigint;
  commitBlock: bigint;
  /** The mediation's draw block: the mediator is drawn from block `drawBlock + 1`. */
  drawBlock: bigint;
  /** Unix seconds when mediation was requested; the mediation timeout runs from here. */
  challengedAt: bigint;
  /** The mediator draw's seed once `lockDraw` fixed it; zero before. */
  seed: bigint;
}

/** Everything stored about a deal on chain. */
export async function dealRecord(client: LilyClient, { dealId }: DealRecordParameters): Promise<DealRecordReturnType> {
  const [state, resultDigest, committedAt, commitBlock, drawBlock, challengedAt, seed] = await withLilyErrors(() =>
    client.publicClient.readContract({ address: client.addresses.deals, abi: lilyDealsAbi, functionName: "dealRecord", args: [dealId] }),
  );
  return { state: dealStates[state], resultDigest, committedAt, commitBlock, drawBlock, challengedAt, seed };
}
