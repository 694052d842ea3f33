// What a module costs right now: the range of prices in the providers' current resource offers
// that allow it, and how many providers those are. Read from the solver's open book.
import { priceRange, type PriceRange, type ResourceOffer } from "@lily/protocol";

export type LivePrices = PriceRange;

/** The live price range of a module among resource offers (protocol's priceRange, per job). */
export function livePrices(manifestCid: string, offers: readonly ResourceOffer[], nowSeconds = Math.floor(Date.now() / 1000)): LivePrices {
  return priceRange(
    manifestCid,
    offers.map((o) => ({ provider: o.provider, cids: o.modules, price: o.price, expiresAt: o.expiresAt })),
    nowSeconds,
  );
}
