import { parseEventLogs, type Hex } from "viem";
import type { DealMessage } from "@lily/protocol";
import { lilyDealsAbi } from "../generated/artifacts.ts";
import { requireAccount, type LilyClient } from "../client.ts";
import { confirm, written, type WriteResult } from "../confirm.ts";
import { dealId, sortReplicas } from "../deal.ts";
import { withLilyErrors } from "../errors.ts";
import { writeContract } from "../send.ts";

export interface SettleReplicasParameters {
  /** The whole group, in any order: k deals of one job offer with distinct providers, each committed or timed out. */
  deals: readonly DealMessage[];
}

export interface SettleReplicasReturnType extends WriteResult {
  /** Whether more than k/2 replicas committed one digest. */
  majority: boolean;
  /** The winning digest (zero without a majority) and how many replicas committed it. */
  digest: Hex;
  votes: bigint;
  /** What became of each deal, in the order given: paid, slashed, sent to mediation, or untouched (it had timed out). */
  outcomes: { dealId: Hex; outcome: "settled" | "slashed" | "challenged" | "timedOut" }[];
}

/**
 * Tally a `replicate(k)` group. The majority's providers are paid and the minority slashed;
 * without a majority every committed replica goes to one mediator drawn for the group. Any
 * account may send it.
 */
export async function settleReplicas(client: LilyClient, { deals }: SettleReplicasParameters): Promise<SettleReplicasReturnType> {
  const { addresses } = requireAccount(client);
  return withLilyErrors(async () => {
    const hash = await writeContract(client, {
      address: addresses.deals,
      abi: lilyDealsAbi,
      functionName: "settleReplicas",
      args: [sortReplicas(deals, (d) => d)],
    });
    const receipt = await confirm(client, hash);
    const logs = parseEventLogs({ abi: lilyDealsAbi, logs: receipt.logs });
    const tallied = logs.find((l) => l.eventName === "ReplicasTallied");
    const outcomeOf = new Map<string, "settled" | "slashed" | "challenged">();
    for (const l of logs) {
      if (l.eventName === "DealSettled") outcomeOf.set(l.args.dealId, "settled");
      if (l.eventName === "DealSlashed") outcomeOf.set(l.args.dealId, "slashed");
      if (l.eventName === "MediationRequested") outcomeOf.set(l.args.dealId, "challenged");
    }
    const outcomes = deals.map((deal) => {
      const id = dealId(addresses, deal);
      return { dealId: id, outcome: outcomeOf.get(id) ?? ("timedOut" as const) };
    });
    const args = tallied?.eventName === "ReplicasTallied" ? tallied.args : undefined;
    return { ...written(receipt), majority: args?.majority ?? false, digest: args?.digest ?? padZero, votes: args?.votes ?? 0n, outcomes };
  });
}

const padZero: Hex = `0x${"0".repeat(64)}`;
