// The live price range of a module or model: among the offers that name it and have not expired,
// the lowest and highest price and how many distinct providers make them. The CLI's `module list`
// and the gateway's catalogue (which the studio shows) read prices the same way through this.

/** An offer as far as pricing goes: who, for which CIDs, at what price, until when (unix seconds). */
export interface PricedOffer {
  provider: string;
  cids: readonly string[];
  price: bigint;
  expiresAt: bigint;
}

export interface PriceRange {
  /** Providers with a current offer for it. */
  providers: number;
  /** Lowest and highest price among those offers; absent when there are none. */
  min?: bigint;
  max?: bigint;
}

export function priceRange(cid: string, offers: readonly PricedOffer[], nowSeconds: number): PriceRange {
  const current = offers.filter((o) => o.cids.includes(cid) && o.expiresAt > BigInt(nowSeconds));
  if (current.length === 0) return { providers: 0 };
  const prices = current.map((o) => o.price);
  return {
    providers: new Set(current.map((o) => o.provider.toLowerCase())).size,
    min: prices.reduce((a, b) => (b < a ? b : a)),
    max: prices.reduce((a, b) => (b > a ? b : a)),
  };
}
