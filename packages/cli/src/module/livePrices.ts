// What a module costs right now: the range of prices in the providers' current resource offers
// that allow it, and how many providers those are. Read from the solver's open book.
import type { ResourceOffer } from "@lily/protocol";

export interface LivePrices {
  /** Providers with a current offer allowing the module. */
  providers: number;
  /** Lowest and highest price per job among those offers, in wei; absent when none. */
  min?: bigint;
  max?: bigint;
}

export function livePrices(manifestCid: string, offers: readonly ResourceOffer[], nowSeconds = Math.floor(Date.now() / 1000)): LivePrices {
  const allowing = offers.filter((o) => o.modules.includes(manifestCid) && o.expiresAt > BigInt(nowSeconds));
  if (allowing.length === 0) return { providers: 0 };
  const prices = allowing.map((o) => o.price);
  return {
    providers: new Set(allowing.map((o) => o.provider.toLowerCase())).size,
    min: prices.reduce((a, b) => (b < a ? b : a)),
    max: prices.reduce((a, b) => (b > a ? b : a)),
  };
}
