// Model offers in the solver's SQLite (the order book's file, table `model_offers`): the newest
// signed offer per (provider, model), kept after it expires so its nonce still orders the next
// one, and listed cheapest first. A restarted solver lists what it listed before.
import type { StatementSync } from "node:sqlite";
import type { Address, Hex } from "viem";
import { LilyError, ModelOffer, parse, wireJson } from "@lily/protocol";
import { preparedOnce, type Database } from "@lily/node-kit";
import type { ModelOfferRecord } from "@lily/api";
import type { HeldModelOffer } from "./admitModelOffer.ts";

/** Most offers one listing returns: the cheapest ones. */
export const MAX_LISTED_MODEL_OFFERS = 100;

interface Row {
  id: string;
  nonce: string;
  offer: string;
  signature: string;
  posted_at: number;
}

/** 64 hex digits: text order is number order for every uint256. */
const sortable = (v: bigint) => v.toString(16).padStart(64, "0");
/** A uint64 expiry as a column JS can read back: past 2^53 seconds is as good as never. */
const expiry = (v: bigint) => (v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v));

const toRecord = (r: Row): ModelOfferRecord => ({
  id: r.id as Hex,
  offer: parse(ModelOffer, JSON.parse(r.offer), "offer"),
  signature: r.signature as Hex,
  postedAt: r.posted_at,
});

export class ModelOfferBook {
  /** Each SQL text's statement, prepared once. */
  private readonly sql: (text: string) => StatementSync;

  /** `db` has run the order book's migrations (it is `OrderBook.database`). */
  constructor(db: Database) {
    this.sql = preparedOnce(db);
  }

  held(provider: Address, model: string): HeldModelOffer | undefined {
    const row = this.sql("SELECT id, nonce FROM model_offers WHERE provider = ? AND model = ?").get(provider, model) as Row | undefined;
    return row && { id: row.id as Hex, nonce: BigInt(`0x${row.nonce}`) };
  }

  get(id: Hex): ModelOfferRecord | undefined {
    const row = this.sql("SELECT * FROM model_offers WHERE id = ?").get(id) as Row | undefined;
    return row && toRecord(row);
  }

  /**
   * Store `rec` as its provider's offer for its model, replacing the one held (the caller has
   * checked it is newer). A provider holds offers for at most `maxPerProvider` models: to make
   * room, its expired offers go first, soonest expired first; with none expired the offer is
   * refused (CONFLICT). Run inside a transaction with the check that admitted it.
   */
  put(rec: ModelOfferRecord, opts: { maxPerProvider: number; now: number }): void {
    const { offer } = rec;
    const replacing = this.held(offer.provider, offer.model) !== undefined;
    if (!replacing) this.makeRoom(offer.provider, opts.maxPerProvider, opts.now);
    this.sql(
      `INSERT INTO model_offers (provider, model, id, nonce, expires_at, output_price, input_price, offer, signature, posted_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (provider, model) DO UPDATE SET id = excluded.id, nonce = excluded.nonce, expires_at = excluded.expires_at,
         output_price = excluded.output_price, input_price = excluded.input_price, offer = excluded.offer,
         signature = excluded.signature, posted_at = excluded.posted_at`,
    ).run(
      offer.provider,
      offer.model,
      rec.id,
      sortable(offer.nonce),
      expiry(offer.expiresAt),
      sortable(offer.outputPricePer1k),
      sortable(offer.inputPricePer1k),
      wireJson(offer),
      rec.signature,
      rec.postedAt,
    );
  }

  private makeRoom(provider: Address, max: number, now: number): void {
    const held = Number((this.sql("SELECT count(*) AS n FROM model_offers WHERE provider = ?").get(provider) as { n: number }).n);
    if (held < max) return;
    // Forgetting an expired offer forgets its nonce too: the provider's older offers for that model
    // could then be posted again, which shows a stale price until the provider posts a newer one.
    this.sql(
      `DELETE FROM model_offers WHERE rowid IN (
         SELECT rowid FROM model_offers WHERE provider = ? AND expires_at <= ? ORDER BY expires_at, id LIMIT ?)`,
    ).run(provider, now, held - max + 1);
    const left = Number((this.sql("SELECT count(*) AS n FROM model_offers WHERE provider = ?").get(provider) as { n: number }).n);
    // REJECT: one provider may not fill the solver with offers
    if (left >= max) {
      throw new LilyError({
        code: "CONFLICT",
        field: "offer.provider",
        message: `offer.provider: ${provider} already has live offers for ${left} models, the most this solver keeps`,
        hint: "replace one of them (a larger nonce for the same model) or let one expire",
        details: { provider, held: left, max },
      });
    }
  }

  /**
   * Live offers (not expired at `now`, unix seconds), for one model or all: cheapest first by
   * output price, then input price, then the earlier posted, then id, so every solver with the
   * same offers lists them in the same order. At most MAX_LISTED_MODEL_OFFERS.
   */
  list(model: string | undefined, now: number): ModelOfferRecord[] {
    const order = "ORDER BY output_price, input_price, posted_at, id LIMIT ?";
    const rows = (model === undefined
      ? this.sql(`SELECT * FROM model_offers WHERE expires_at > ? ${order}`).all(now, MAX_LISTED_MODEL_OFFERS)
      : this.sql(`SELECT * FROM model_offers WHERE model = ? AND expires_at > ? ${order}`).all(model, now, MAX_LISTED_MODEL_OFFERS)) as unknown as Row[];
    return rows.map(toRecord);
  }
}
