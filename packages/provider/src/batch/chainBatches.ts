// The provider's deal openings and result commits, batched: deals the provider is ready to open
// at the same moment go out as one `openDeals`, results as one `commitResults` (LilyDeals checks
// every item as the single call does and skips, rather than reverts on, an item the chain's state
// rules out). A lone item is sent with the single call, exactly as before.
//
// Each item gets what its single call would have given: its transaction, or the refusal the
// single call would have thrown (a LilyError whose `details.error` names the contract's error,
// which is all `refusal()` reads), so the steps around it handle a skipped item as they handle a
// refused single transaction. A batch the contract refuses whole (only an item's signed terms can
// do that) is sent again item by item, so that item alone is refused. A batch that did not go
// through (a node that did not answer) fails every item, to be retried on the next pass, as each
// single call would have failed.
//
// A routed trust deal (onTrustDeals) opens and settles on LilyTrustDeals instead (trustBatches.ts).
//
// Nothing here needs its own record for crash safety: an item enters the queue only after the
// provider's database holds what it commits to (the signed deal; the result CID, status `ran`),
// and every pass starts again from the chain's word. An item sent twice (a restart before the
// receipt, another party opening first) meets its own state change on chain and is skipped
// (`DealsAlreadyOpened`, `DealsNotOpen`): nothing opens or pays twice.
import type { Hex } from "viem";
import { blockOf, commitResult, commitResults, dealId, onTrustDeals, openDeal, openDeals, type LilyClient } from "@lily/chain";
import type { DealMessage } from "@lily/protocol";
import { refusal } from "../refusal.ts";
import { Batcher, type BatcherOptions, type ItemOutcome } from "./batcher.ts";
import { oneByOne, skippedError, type Committed, type Sent } from "./batchOutcome.ts";
import { createTrustBatches, type SettleItem, type TrustSettled } from "./trustBatches.ts";
import type { TrustBatchRef } from "./trustBatchOf.ts";

export { skippedError, type Committed, type Sent } from "./batchOutcome.ts";
export type { SettleItem, TrustSettled } from "./trustBatches.ts";
export type { TrustBatchRef } from "./trustBatchOf.ts";

export interface OpenItem {
  deal: DealMessage;
  /** A routed trust deal: the nonce its provider signed under (undefined for every other deal). */
  trustNonce?: bigint | undefined;
  jobCreatorSig: Hex;
  providerSig: Hex;
}

export interface CommitItem {
  deal: DealMessage;
  resultDigest: Hex;
}

/** An opening's share of its transaction; a routed trust deal also gets the batch it opened in. */
export interface Opened extends Sent {
  trust?: TrustBatchRef;
}

export interface ChainBatches {
  /** Open a deal where it routes (onTrustDeals): LilyTrustDeals' batch, or LilyDeals. Signatures in the route's form. */
  open(item: OpenItem): Promise<Opened>;
  /** Commit a LilyDeals deal's result. */
  commit(item: CommitItem): Promise<Committed>;
  /** Settle a delivered routed trust deal (its "commit"), proven against its batch as the chain holds it. */
  settle(item: SettleItem): Promise<TrustSettled>;
  /** Sizes of the calls made so far, per kind. */
  readonly calls: { open: readonly number[]; commit: readonly number[]; trustOpen: readonly number[]; settle: readonly number[] };
}

/** At most 100 items a call (the bench's batch size; MAX_BATCH is 500); two calls in flight. */
export const defaultBatchOptions: BatcherOptions = { maxItems: 100, maxInFlight: 2 };

export function createChainBatches(chain: LilyClient, opts: BatcherOptions = defaultBatchOptions): ChainBatches {
  const sender = chain.account?.address.toLowerCase();

  const openSingle = async (item: OpenItem): Promise<Sent> => {
    const r = await openDeal(chain, item);
    return { txHash: r.txHash, gasUsed: r.gasUsed, batchSize: 1, block: blockOf(r) };
  };
  const opens = new Batcher<OpenItem, Sent>(opts, async (items) => {
    if (items.length === 1) return oneByOne(items, openSingle);
    // The sender's own signature is not needed in a batch: its transaction is its consent.
    const deals = items.map((i) => ({ ...i, providerSig: i.deal.provider.toLowerCase() === sender ? ("0x" as Hex) : i.providerSig }));
    let r: Awaited<ReturnType<typeof openDeals>>;
    try {
      r = await openDeals(chain, { deals });
    } catch (e) {
      // REJECT (by the contract, whole batch): one item's signed terms; each alone finds which.
      if (refusal(e) !== undefined) return oneByOne(items, openSingle);
      throw e;
    }
    const skipped = new Map(r.skipped.map((s) => [s.index, s]));
    return items.map((_, i): ItemOutcome<Sent> => {
      const s = skipped.get(i);
      return s
        ? { ok: false, error: skippedError(s, "openDeals") }
        : { ok: true, value: { txHash: r.txHash, gasUsed: r.gasUsed, batchSize: items.length, block: blockOf(r) } };
    });
  });

  const commitSingle = async (item: CommitItem): Promise<Committed> => {
    const r = await commitResult(chain, item);
    return { txHash: r.txHash, gasUsed: r.gasUsed, batchSize: 1, block: blockOf(r), settled: r.settled };
  };
  const commits = new Batcher<CommitItem, Committed>(opts, async (items) => {
    if (items.length === 1) return oneByOne(items, commitSingle);
    let r: Awaited<ReturnType<typeof commitResults>>;
    try {
      r = await commitResults(chain, { results: items });
    } catch (e) {
      if (refusal(e) !== undefined) return oneByOne(items, commitSingle);
      throw e;
    }
    const skipped = new Map(r.skipped.map((s) => [s.index, s]));
    const settled = new Set(r.settled.map((id) => id.toLowerCase()));
    return items.map((item, i): ItemOutcome<Committed> => {
      const s = skipped.get(i);
      if (s) return { ok: false, error: skippedError(s, "commitResults") };
      const id = dealId(chain.addresses, item.deal).toLowerCase();
      return { ok: true, value: { txHash: r.txHash, gasUsed: r.gasUsed, batchSize: items.length, block: blockOf(r), settled: settled.has(id) } };
    });
  });

  const trust = createTrustBatches(chain, opts);

  return {
    open: (item) =>
      onTrustDeals(chain.addresses, item.deal)
        ? trust.open({ ...item, dealId: dealId(chain.addresses, item.deal), trustNonce: item.trustNonce })
        : opens.submit(item),
    commit: (item) => commits.submit(item),
    settle: (item) => trust.settle(item),
    calls: { open: opens.calls, commit: commits.calls, trustOpen: trust.calls.open, settle: trust.calls.settle },
  };
}

const perClient = new WeakMap<LilyClient, ChainBatches>();

/** The batches of this chain client (one per provider: its account's openings and commits). */
export function chainBatchesOf(chain: LilyClient): ChainBatches {
  const known = perClient.get(chain);
  if (known) return known;
  const b = createChainBatches(chain);
  perClient.set(chain, b);
  return b;
}
