// The LilyTrustDeals batch a routed trust deal opened in, as the chain holds it now: what settling
// the deal proves against. The provider keeps only the batch number (LocalDeal.trustBatchNo, a
// hint that survives restarts and turns the search into one log query by the batch's topic) and,
// in memory, the leaves of the batches it opened or read. Neither is trusted: a node that lost
// blocks may have given the batch number to another batch (or to none), so before each use the
// leaves must hold the deal's leaf and hash to the root the contract holds for that number; else
// the deal is looked for again among the chain's openings (locateTrustDeal), as for a deal
// another party opened.
import type { Hex } from "viem";
import { locateTrustDeal, routedTrustDeal, trustBatch, trustBatchRoot, trustLeaf, trustTermsOf, trustTreeRoot, type LilyClient } from "@lily/chain";
import { isLilyError } from "@lily/protocol";
import { routedOf, type LocalDeal } from "../db.ts";

/** Where a trust deal opened: what settling it proves against. */
export interface TrustBatchRef {
  batchNo: bigint;
  /** The batch's leaves as its DealsOpened event lists them (zero where an item was skipped). */
  leaves: readonly Hex[];
  /** The deal's place among them. */
  index: number;
}

/** What finding a routed deal's batch needs of the deal. */
export type TrustDealRef = Pick<LocalDeal, "id" | "deal" | "trustBatchNo" | "trustNonce">;

/** Leaves of batches this process opened or read, by batch number: a few batches' worth is plenty. */
const KEPT_BATCHES = 64;
const leavesKept = new WeakMap<LilyClient, Map<bigint, readonly Hex[]>>();

function kept(chain: LilyClient): Map<bigint, readonly Hex[]> {
  const known = leavesKept.get(chain);
  if (known) return known;
  const m = new Map<bigint, readonly Hex[]>();
  leavesKept.set(chain, m);
  return m;
}

/** Keep the leaves of a batch just opened (from its receipt), so settling it needs no log query. */
export function keepTrustBatch(chain: LilyClient, batchNo: bigint, leaves: readonly Hex[]): void {
  const m = kept(chain);
  m.set(batchNo, leaves);
  if (m.size > KEPT_BATCHES) m.delete(m.keys().next().value!);
}

/**
 * One round of look-ups (a settle call's items): each batch's root and leaves are read once
 * however many of its deals ask. Not kept beyond the round, so a later round sees the chain anew.
 */
export class TrustBatchReads {
  private readonly roots = new Map<bigint, Promise<Hex>>();
  private readonly leaves = new Map<bigint, Promise<readonly Hex[] | undefined>>();

  readonly chain: LilyClient;

  constructor(chain: LilyClient) {
    this.chain = chain;
  }

  /** The root LilyTrustDeals holds for a batch number (zero: no such batch). */
  rootOf(batchNo: bigint): Promise<Hex> {
    let r = this.roots.get(batchNo);
    if (!r) {
      r = trustBatchRoot(this.chain, { batchNo });
      this.roots.set(batchNo, r);
    }
    return r;
  }

  /** Leaves of `batchNo`, kept or read from its DealsOpened event; undefined if the chain has no such batch. */
  leavesOf(batchNo: bigint): Promise<readonly Hex[] | undefined> {
    let l = this.leaves.get(batchNo);
    if (!l) {
      const known = kept(this.chain).get(batchNo);
      l = known
        ? Promise.resolve(known)
        : trustBatch(this.chain, { batchNo }).then(
            (b) => b.leaves,
            (e: unknown) => {
              if (isLilyError(e, "NOT_FOUND")) return undefined;
              throw e;
            },
          );
      this.leaves.set(batchNo, l);
    }
    return l;
  }
}

/** The deal's index in `leaves`, if they hold its leaf and are the batch the contract holds under `batchNo`. */
async function placeIn(reads: TrustBatchReads, batchNo: bigint, leaves: readonly Hex[], leaf: string): Promise<number | undefined> {
  const index = leaves.findIndex((l) => l.toLowerCase() === leaf);
  if (index < 0) return undefined;
  // REJECT: leaves that do not hash to the chain's root for this number (a batch lost with its blocks) prove nothing
  return (await reads.rootOf(batchNo)).toLowerCase() === trustTreeRoot(leaves).toLowerCase() ? index : undefined;
}

/**
 * The batch that opened this routed deal, checked against the chain; undefined while no batch on
 * the chain holds it (not opened, or its opening lost).
 */
export async function trustBatchOf(chain: LilyClient, local: TrustDealRef, reads = new TrustBatchReads(chain)): Promise<TrustBatchRef | undefined> {
  const leaf = trustLeaf(local.deal.provider, trustTermsOf(routedTrustDeal(routedOf(local)))).toLowerCase();
  if (local.trustBatchNo !== undefined) {
    const batchNo = local.trustBatchNo;
    const leaves = await reads.leavesOf(batchNo);
    const index = leaves && (await placeIn(reads, batchNo, leaves, leaf));
    if (leaves && index !== undefined) {
      keepTrustBatch(chain, batchNo, leaves);
      return { batchNo, leaves, index };
    }
    // Kept leaves that no longer match are dropped: the chain's own decide from now on.
    kept(chain).delete(batchNo);
  }
  const found = await locateTrustDeal(chain, routedOf(local));
  if (!found) return undefined;
  const index = await placeIn(reads, found.batchNo, found.leaves, leaf);
  if (index === undefined) return undefined;
  keepTrustBatch(chain, found.batchNo, found.leaves);
  return { batchNo: found.batchNo, leaves: found.leaves, index };
}
