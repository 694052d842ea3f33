// The provider's routed trust deals on LilyTrustDeals, batched: deals ready to open at the same
// moment open as one batch (`openTrustDeals`, the provider as sender: its own signature is left
// out, its transaction is its consent), delivered deals settle together (`settleTrustDeals`), one
// call per batch they were opened in. Even a lone item goes as a batch: there is no single call.
//
// Each item gets what the LilyDeals path would have given it, so the provider's steps read both
// the same way: a skip reason is read as its LilyDeals peer (TRUST_SKIPS: a used nonce only means
// "look at the chain", like DealsAlreadyOpened); a batch the contract refuses whole (one item's
// terms) is sent again item by item, so that item alone is refused; a call that did not go
// through fails every item of it, to be retried on the next pass.
//
// Settling proves each deal against the batch that opened it, found and checked against the chain
// in the call itself (trustBatchOf.ts: once per batch, however many of its deals settle), so that
// results ready together are still submitted together. Crash safety: an item is queued only once
// the provider's database holds what it commits to, and an item sent twice meets its own state
// change on chain and is skipped (a used nonce, a deal no longer open): nothing opens or pays twice.
import type { Hex } from "viem";
import { blockOf, openTrustDeals, routedTrustDeal, settleTrustDeals, trustTermsOf, type LilyClient, type TrustSkippedItem } from "@lily/chain";
import { LilyError, type DealMessage } from "@lily/protocol";
import { routedOf } from "../db.ts";
import { refusal } from "../refusal.ts";
import { Batcher, type BatcherOptions, type ItemOutcome } from "./batcher.ts";
import { oneByOne, skippedError, type Committed, type Sent } from "./batchOutcome.ts";
import { TrustBatchReads, trustBatchOf, type TrustBatchRef, type TrustDealRef } from "./trustBatchOf.ts";

/** A routed deal to open: the negotiated deal (its id is its LilyDeals digest) and the job creator's TrustDeal signature. */
export interface TrustOpenItem {
  dealId: Hex;
  deal: DealMessage;
  /** The nonce the provider signed the deal's TrustDeal under. */
  trustNonce: bigint | undefined;
  jobCreatorSig: Hex;
  /** Left out when the provider is the sender (always, for a provider's own deals). */
  providerSig: Hex;
}

export interface TrustSent extends Sent {
  trust: TrustBatchRef;
}

/** A delivered routed deal: its batch is found and checked against the chain in the call (trustBatchOf.ts). */
export type SettleItem = TrustDealRef;

export interface TrustSettled extends Committed {
  /** The batch it was proven against (it may differ from the item's hint: found again on the chain). */
  trustBatchNo: bigint;
}

/** LilyTrustDeals' skip reasons as the LilyDeals reasons the provider's steps already read. */
const TRUST_SKIPS: Record<string, string> = {
  // Opened already (by the job creator, or by this provider before a crash): the chain is to be looked at.
  TrustNonceUsed: "DealsAlreadyOpened",
  TrustOpenByPassed: "DealsOpenByPassed",
  TrustInvalidSignature: "DealsInvalidSignature",
  // Settled already (a retry after a crash) or timed out: the next pass reads the chain.
  TrustNotOpen: "DealsNotOpen",
  TrustDeadlinePassed: "DealsDeadlinePassed",
};

function trustSkipped(s: TrustSkippedItem, dealId: Hex, kind: string) {
  return skippedError({ index: s.index, dealId, reason: TRUST_SKIPS[s.reason] ?? s.reason }, kind, s.reason);
}

/** Send `items` as one call; a call the contract refuses whole is sent again item by item. */
async function wholeOrEach<I, R>(items: I[], send: (items: I[]) => Promise<ItemOutcome<R>[]>): Promise<ItemOutcome<R>[]> {
  try {
    return await send(items);
  } catch (e) {
    // REJECT (by the contract, whole call): one item's terms or proof; each alone finds which.
    if (items.length === 1 || refusal(e) === undefined) throw e;
    return oneByOne(items, async (item) => {
      const [o] = await send([item]);
      if (!o!.ok) throw o!.error;
      return o!.value;
    });
  }
}

export interface TrustBatches {
  open(item: TrustOpenItem): Promise<TrustSent>;
  settle(item: SettleItem): Promise<TrustSettled>;
  readonly calls: { open: readonly number[]; settle: readonly number[] };
}

export function createTrustBatches(chain: LilyClient, opts: BatcherOptions): TrustBatches {
  const sender = chain.account?.address.toLowerCase();

  const openCall = async (items: TrustOpenItem[]): Promise<ItemOutcome<TrustSent>[]> => {
    const deals = items.map((i) => ({
      deal: routedTrustDeal(i),
      jobCreatorSig: i.jobCreatorSig,
      providerSig: i.deal.provider.toLowerCase() === sender ? ("0x" as Hex) : i.providerSig,
    }));
    const r = await openTrustDeals(chain, { deals });
    const skipped = new Map(r.skipped.map((s) => [s.index, s]));
    return items.map((item, index): ItemOutcome<TrustSent> => {
      const s = skipped.get(index);
      if (s) return { ok: false, error: trustSkipped(s, item.dealId, "openTrustDeals") };
      const trust = { batchNo: r.batchNo, leaves: r.leaves, index };
      return { ok: true, value: { txHash: r.txHash, gasUsed: r.gasUsed, batchSize: items.length, block: blockOf(r), trust } };
    });
  };
  const opens = new Batcher<TrustOpenItem, TrustSent>(opts, (items) => wholeOrEach(items, openCall));

  /** One batch's items: one settleTrustDeals. */
  const settleCall = async (items: { item: SettleItem; batch: TrustBatchRef }[]): Promise<ItemOutcome<TrustSettled>[]> => {
    const { batchNo, leaves } = items[0]!.batch;
    const terms = items.map(({ item }) => trustTermsOf(routedTrustDeal(routedOf(item))));
    const r = await settleTrustDeals(chain, { batchNo, leaves, deals: terms });
    const skipped = new Map(r.skipped.map((s) => [s.index, s]));
    const settled = new Set(r.settled);
    return items.map(({ item }, i): ItemOutcome<TrustSettled> => {
      const s = skipped.get(i);
      if (s) return { ok: false, error: trustSkipped(s, item.id, "settleTrustDeals") };
      const value = {
        txHash: r.txHash,
        gasUsed: r.gasUsed,
        batchSize: items.length,
        block: blockOf(r),
        settled: settled.has(terms[i]!.nonce),
        trustBatchNo: batchNo,
      };
      return { ok: true, value };
    });
  };
  const settles = new Batcher<SettleItem, TrustSettled>(opts, async (items) => {
    const reads = new TrustBatchReads(chain);
    const found = await Promise.all(
      items.map((item) =>
        trustBatchOf(chain, item, reads).then(
          (batch) => ({ batch }),
          (error: unknown) => ({ error }),
        ),
      ),
    );
    const out: ItemOutcome<TrustSettled>[] = new Array(items.length);
    // A proof is against one batch's tree: one call per batch the items were opened in.
    const byBatch = new Map<bigint, number[]>();
    for (const [i, f] of found.entries()) {
      if ("error" in f) out[i] = { ok: false, error: f.error };
      // The chain says open (nextStep) but no opening on it holds the deal: a node behind on its logs; the next pass looks again.
      else if (!f.batch)
        out[i] = {
          ok: false,
          error: new LilyError({ code: "NOT_FOUND", field: "trustBatchNo", message: `no trust batch on the chain holds deal ${items[i]!.id}` }),
        };
      else byBatch.set(f.batch.batchNo, [...(byBatch.get(f.batch.batchNo) ?? []), i]);
    }
    await Promise.all(
      [...byBatch.values()].map(async (at) => {
        const group = at.map((i) => ({ item: items[i]!, batch: (found[i] as { batch: TrustBatchRef }).batch }));
        const outcomes = await wholeOrEach(group, settleCall).catch((error: unknown) => group.map((): ItemOutcome<TrustSettled> => ({ ok: false, error })));
        for (const [k, i] of at.entries()) out[i] = outcomes[k]!;
      }),
    );
    return out;
  });

  return {
    open: (item) => opens.submit(item),
    settle: (item) => settles.submit(item),
    calls: { open: opens.calls, settle: settles.calls },
  };
}
