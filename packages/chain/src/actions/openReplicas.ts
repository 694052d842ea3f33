import type { Hex } from "viem";
import type { DealMessage } from "@lily/protocol";
import { lilyDealsAbi } from "../generated/artifacts.ts";
import { requireAccount, type LilyClient } from "../client.ts";
import { confirm, written, type WriteResult } from "../confirm.ts";
import { dealId, sortReplicas } from "../deal.ts";
import { withLilyErrors } from "../errors.ts";
import { writeContract } from "../send.ts";

export interface OpenReplicasParameters {
  /** The whole group, in any order: each deal with its job creator's and its provider's signature. */
  replicas: readonly { deal: DealMessage; jobCreatorSig: Hex; providerSig: Hex }[];
}

export interface OpenReplicasReturnType extends WriteResult {
  /** The deals' ids, in ascending provider order (the contract's). */
  dealIds: Hex[];
}

/**
 * Open a whole `replicate(k)` group in one transaction: every replica locks or none does, so a
 * group always forms. Any account may submit it; the 2k signatures are the authority.
 */
export async function openReplicas(client: LilyClient, { replicas }: OpenReplicasParameters): Promise<OpenReplicasReturnType> {
  const { addresses } = requireAccount(client);
  const sorted = sortReplicas(replicas, (r) => r.deal);
  return withLilyErrors(async () => {
    const hash = await writeContract(client, {
      address: addresses.deals,
      abi: lilyDealsAbi,
      functionName: "openReplicas",
      args: [sorted.map((r) => r.deal), sorted.map((r) => r.jobCreatorSig), sorted.map((r) => r.providerSig)],
    });
    return { ...written(await confirm(client, hash)), dealIds: sorted.map((r) => dealId(addresses, r.deal)) };
  });
}
