// Put a call's trust deals in the order a multiproof against their batch's tree consumes them,
// with that proof: the shared step of committing and timing out.
import type { Address, Hex } from "viem";
import { LilyError } from "@lily/protocol";
import { trustLeaf, type TrustTerms } from "./trustDeal.ts";
import { trustMultiProof } from "./trustTree.ts";

export interface ProvenTrustItems<T> {
  /** The items, reordered as the proof needs them. */
  items: T[];
  proof: Hex[];
  proofFlags: boolean[];
}

/**
 * Find each item's leaf among the batch's `leaves` and prove them together. An item whose leaf is
 * not in the batch (other terms, another provider, a skipped item) is INVALID_INPUT naming it.
 */
export function proveTrustItems<T>(
  field: string,
  leaves: readonly Hex[],
  provider: Address,
  items: readonly T[],
  terms: (item: T) => TrustTerms,
): ProvenTrustItems<T> {
  const at = new Map(leaves.map((leaf, i) => [leaf.toLowerCase(), i] as const));
  const positions = items.map((item, i) => {
    const position = at.get(trustLeaf(provider, terms(item)).toLowerCase());
    if (position === undefined) {
      throw new LilyError({
        code: "INVALID_INPUT",
        field: `${field}[${i}]`,
        message: `${field}[${i}]: no deal of ${provider} with these terms was opened in this batch`,
      });
    }
    return position;
  });
  const byPosition = new Map(positions.map((p, i) => [p, items[i]!] as const));
  if (byPosition.size !== items.length) throw new LilyError({ code: "INVALID_INPUT", field, message: `${field}: a deal appears twice` });
  const { indices, proof, proofFlags } = trustMultiProof(leaves, positions);
  return { items: indices.map((p) => byPosition.get(p)!), proof, proofFlags };
}
