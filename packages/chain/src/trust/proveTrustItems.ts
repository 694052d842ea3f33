// Put a call's trust deals in the order a multiproof against their batch's tree consumes them,
// with that proof, and report the call's skipped items back in the caller's order: the shared
// steps of settling and timing out.
import type { Address, Hex, TransactionReceipt } from "viem";
import { LilyError } from "@lily/protocol";
import { trustLeaf, type TrustTerms } from "./trustDeal.ts";
import { trustMultiProof } from "./trustTree.ts";
import { trustSkippedItems, type TrustSkippedItem } from "./trustBatch.ts";

export interface ProvenTrustItems {
  /** The deals, reordered as the proof needs them. */
  items: TrustTerms[];
  /** For each of `items`, its index in the caller's list. */
  sentFrom: number[];
  proof: Hex[];
  proofFlags: boolean[];
}

/**
 * Find each deal's leaf among the batch's `leaves` and prove them together. A deal whose leaf is
 * not in the batch (other terms, another provider, a skipped item) is INVALID_INPUT naming it.
 */
export function proveTrustItems(field: string, leaves: readonly Hex[], provider: Address, deals: readonly TrustTerms[]): ProvenTrustItems {
  const at = new Map(leaves.map((leaf, i) => [leaf.toLowerCase(), i] as const));
  const positions = deals.map((deal, i) => {
    const position = at.get(trustLeaf(provider, deal).toLowerCase());
    if (position === undefined) {
      throw new LilyError({
        code: "INVALID_INPUT",
        field: `${field}[${i}]`,
        message: `${field}[${i}]: no deal of ${provider} with these terms was opened in this batch`,
      });
    }
    return position;
  });
  const callerIndex = new Map(positions.map((p, i) => [p, i] as const));
  if (callerIndex.size !== deals.length) throw new LilyError({ code: "INVALID_INPUT", field, message: `${field}: a deal appears twice` });
  const { indices, proof, proofFlags } = trustMultiProof(leaves, positions);
  const sentFrom = indices.map((p) => callerIndex.get(p)!);
  return { items: sentFrom.map((i) => deals[i]!), sentFrom, proof, proofFlags };
}

/** The call's skipped items (indexed as the proof ordered them), indexed as the caller listed them, in that order. */
export function skippedAsListed(receipt: TransactionReceipt, proven: ProvenTrustItems): TrustSkippedItem[] {
  return trustSkippedItems(receipt)
    .map((s) => ({ ...s, index: proven.sentFrom[s.index]! }))
    .sort((a, b) => a.index - b.index);
}
