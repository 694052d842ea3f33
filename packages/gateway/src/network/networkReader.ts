// The network as the studio's Providers pages read it: the chain's activity (read on incrementally),
// the solver's open offers (read again after a few seconds) and each deal's module (asked of the
// solver once, checked against the chain), put together by the pure views in views.ts.
import type { Address } from "viem";
import { createClient, modelOfferRoutes, solverRoutes } from "@lily/api";
import type { LilyClient } from "@lily/chain";
import { ACTIVITY_REFRESH_MS, createChainActivity, type ActivitySnapshot, type DealActivity } from "./chainActivity.ts";
import { createDealDetails } from "./dealDetails.ts";
import { dealRow, liveOffers, networkView, newestDeals, providerView, type DealRow, type Offers } from "./views.ts";

/** Most deals examined for one module filter: older deals are not looked through for a module's recent runs. */
export const MODULE_SCAN_DEALS = 1_000;

export interface DealQuery {
  module?: string;
  provider?: Address;
  limit: number;
}

export function createNetworkReader(chain: LilyClient, solverUrl: string, deps: { now?: () => number; refreshMs?: number } = {}) {
  const now = deps.now ?? (() => Math.floor(Date.now() / 1000));
  const refreshMs = deps.refreshMs ?? ACTIVITY_REFRESH_MS;
  const activity = createChainActivity(chain, { refreshMs });
  const details = createDealDetails(chain, solverUrl);
  const solver = createClient(solverUrl, solverRoutes, { peer: `solver at ${solverUrl}` });
  const modelOffers = createClient(solverUrl, modelOfferRoutes, { peer: `solver at ${solverUrl}` });
  let offers: { at: number; value: Promise<Offers> } | undefined;

  function readOffers(): Promise<Offers> {
    if (offers && Date.now() - offers.at < refreshMs) return offers.value;
    const value = Promise.all([solver.listResourceOffers({}), modelOffers.listModelOffers({ query: {} })]).then(([r, m]) => ({
      resource: r.offers,
      model: m.offers,
    }));
    const mine = { at: Date.now(), value };
    offers = mine;
    value.catch(() => {
      if (offers === mine) offers = undefined;
    });
    return value;
  }

  const rows = (snap: ActivitySnapshot, deals: DealActivity[]) => Promise.all(deals.map(async (d) => dealRow(snap, d, await details.of(d))));

  async function deals(q: DealQuery): Promise<DealRow[]> {
    const snap = await activity.snapshot();
    const newest = newestDeals(snap, q.provider);
    if (!q.module) return rows(snap, newest.slice(0, q.limit));
    const out: DealRow[] = [];
    // Newest first, a page at a time, until enough ran the module.
    const scan = newest.slice(0, MODULE_SCAN_DEALS);
    for (let i = 0; i < scan.length && out.length < q.limit; i += q.limit) {
      for (const row of await rows(snap, scan.slice(i, i + q.limit))) if (row.module === q.module && out.length < q.limit) out.push(row);
    }
    return out;
  }

  return {
    deals,
    async network(limit: number) {
      const [snap, all] = await Promise.all([activity.snapshot(), readOffers()]);
      const recent = await rows(snap, newestDeals(snap).slice(0, limit));
      return networkView(snap, liveOffers(all, now()), recent, now(), limit);
    },
    async provider(address: Address, limit: number) {
      const [snap, all] = await Promise.all([activity.snapshot(), readOffers()]);
      const mine = newestDeals(snap, address);
      const active = mine.filter((d) => d.state === "open" || d.state === "committed" || d.state === "challenged");
      const [recent, activeDetails] = await Promise.all([rows(snap, mine.slice(0, limit)), Promise.all(active.map((d) => details.of(d)))]);
      return providerView(address, snap, liveOffers(all, now()), recent, activeDetails, now());
    },
  };
}

export type NetworkReader = ReturnType<typeof createNetworkReader>;
