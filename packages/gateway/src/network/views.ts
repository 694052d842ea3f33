// The network's pages as the gateway serves them (GET /v1/network, /v1/providers/:address,
// /v1/network/deals), computed purely from a snapshot: the chain's activity, the solver's open
// offers and what is known of each deal. Amounts are decimal strings of base units (JSON has no
// bigints); times are unix seconds.
import type { Address, Hex } from "viem";
import type { ModelOfferRecord } from "@lily/api";
import type { ResourceOfferRecord } from "@lily/protocol";
import type { ActivitySnapshot, DealActivity } from "./chainActivity.ts";
import type { DealDetails, Resources } from "./dealDetails.ts";

/** A provider with no offer is still online if the chain saw it this recently (seconds). */
export const ONLINE_WINDOW_SECONDS = 10 * 60;
/** Most points of a provider's earnings series (the newest). */
export const EARNINGS_POINTS = 500;

export interface Offers {
  resource: ResourceOfferRecord[];
  model: ModelOfferRecord[];
}

/** One deal as GET /v1/network/deals lists it (the studio's module page shows these as recent runs). */
export interface DealRow {
  id: Hex;
  /** The module's manifest CID, or null when the solver does not know the deal or its record did not match the chain. */
  module: string | null;
  provider: Address;
  jobCreator: Address;
  price: string;
  state: DealActivity["state"];
  openedAt: number;
  openTx: Hex;
  /** The transaction that ended it (settled, slashed or timed out). */
  settledTx?: Hex;
  /** Gas used by all its transactions (each whole, also when it carried other deals: see `trust`). */
  gasUsed: string;
  /** A trust deal's batch on LilyTrustDeals, whose transactions each carried several deals. */
  trust?: {
    batchNo: string;
    nonce: string;
    /** How many deals its opening transaction opened. */
    batchSize: number;
    /** Its share of its transactions' gas: each one's gas over the deals it moved, rounded down. */
    gasShare: string;
  };
}

const NO_RESOURCES: Resources = { cpu: 0, memoryMb: 0, gpu: 0, vramMb: 0 };
const isActive = (state: DealActivity["state"]) => state === "open" || state === "committed" || state === "challenged";

/** Offers still valid at `now`. */
export function liveOffers(offers: Offers, now: number): Offers {
  return {
    resource: offers.resource.filter((o) => o.active && Number(o.offer.expiresAt) > now),
    model: offers.model.filter((o) => Number(o.offer.expiresAt) > now),
  };
}

export function dealRow(snap: ActivitySnapshot, deal: DealActivity, details: DealDetails | undefined): DealRow {
  let gasUsed = 0n;
  let gasShare = 0n;
  for (const tx of deal.txs) {
    const g = snap.gas.get(tx);
    gasUsed += g?.gasUsed ?? 0n;
    gasShare += (g?.gasUsed ?? 0n) / BigInt(g?.deals ?? 1);
  }
  return {
    id: deal.id,
    module: details?.module ?? null,
    provider: deal.provider,
    jobCreator: deal.jobCreator,
    price: deal.price.toString(),
    state: deal.state,
    openedAt: deal.openedAt,
    openTx: deal.openTx,
    ...(deal.endTx ? { settledTx: deal.endTx } : {}),
    gasUsed: gasUsed.toString(),
    ...(deal.trust && {
      trust: {
        batchNo: deal.trust.batchNo.toString(),
        nonce: deal.trust.nonce.toString(),
        batchSize: snap.gas.get(deal.openTx)?.deals ?? 1,
        gasShare: gasShare.toString(),
      },
    }),
  };
}

/** Deals newest first (by opening time, then id, so pages are stable). */
export function newestDeals(snap: ActivitySnapshot, provider?: Address): DealActivity[] {
  const all = [...snap.deals.values()].filter((d) => !provider || d.provider === provider);
  return all.sort((a, b) => b.openedAt - a.openedAt || (a.id < b.id ? -1 : 1));
}

export function isOnline(address: Address, snap: ActivitySnapshot, live: Offers, now: number): boolean {
  const offers = live.resource.some((o) => o.offer.provider === address) || live.model.some((o) => o.offer.provider === address);
  return offers || now - (snap.lastSeen.get(address) ?? 0) <= ONLINE_WINDOW_SECONDS;
}

/** GET /v1/network: every provider the solver or the chain knows, open offers, recent deals and the gas the network's transactions used. */
export function networkView(snap: ActivitySnapshot, live: Offers, recent: DealRow[], now: number, limit: number) {
  const addresses = new Set<Address>([...live.resource.map((o) => o.offer.provider), ...live.model.map((o) => o.offer.provider), ...snap.lastSeen.keys()]);
  const perProvider = new Map<Address, { deals: number; active: number; earned: bigint; leases: number }>();
  const row = (a: Address) => {
    const r = perProvider.get(a) ?? { deals: 0, active: 0, earned: 0n, leases: 0 };
    perProvider.set(a, r);
    return r;
  };
  for (const d of snap.deals.values()) {
    const r = row(d.provider);
    r.deals++;
    if (isActive(d.state)) r.active++;
  }
  for (const l of snap.leases.values()) row(l.provider).leases++;
  for (const e of snap.earnings) row(e.provider).earned += e.amount;
  const providers = [...addresses]
    .map((address) => {
      const r = row(address);
      return {
        address,
        online: isOnline(address, snap, live, now),
        lastSeen: snap.lastSeen.get(address) ?? null,
        offers: live.resource.filter((o) => o.offer.provider === address).length + live.model.filter((o) => o.offer.provider === address).length,
        deals: r.deals,
        activeDeals: r.active,
        leases: r.leases,
        earned: r.earned.toString(),
      };
    })
    // Online first, then the busiest.
    .sort((a, b) => Number(b.online) - Number(a.online) || b.deals + b.leases - (a.deals + a.leases) || (a.address < b.address ? -1 : 1));
  let gasUsed = 0n;
  let feeWei = 0n;
  for (const g of snap.gas.values()) {
    gasUsed += g.gasUsed;
    feeWei += g.feeWei;
  }
  return {
    block: snap.block.toString(),
    totals: {
      providers: providers.length,
      resourceOffers: live.resource.length,
      modelOffers: live.model.length,
      deals: snap.deals.size,
      leases: snap.leases.size,
      ...(snap.unreadTrustDeals !== undefined && { unreadTrustDeals: snap.unreadTrustDeals }),
    },
    providers: providers.slice(0, limit),
    offers: {
      resource: live.resource.slice(0, limit).map(({ id, offer: o }) => ({
        id,
        provider: o.provider,
        price: o.price.toString(),
        collateral: o.collateral.toString(),
        cpu: o.cpu,
        memoryMb: o.memoryMb,
        gpu: o.gpu,
        vramMb: o.vramMb,
        modules: o.modules,
        expiresAt: Number(o.expiresAt),
      })),
      model: live.model.slice(0, limit).map(({ id, offer: o }) => ({
        id,
        provider: o.provider,
        model: o.model,
        inputPricePer1k: o.inputPricePer1k.toString(),
        outputPricePer1k: o.outputPricePer1k.toString(),
        collateral: o.collateral.toString(),
        expiresAt: Number(o.expiresAt),
      })),
    },
    deals: recent,
    /** Each transaction once, however many deals it carried. */
    gas: { transactions: snap.gas.size, gasUsed: gasUsed.toString(), feeWei: feeWei.toString() },
  };
}

/** GET /v1/providers/:address: one provider's dashboard. `activeDetails` are the details of its active deals. */
export function providerView(
  address: Address,
  snap: ActivitySnapshot,
  live: Offers,
  recent: DealRow[],
  activeDetails: (DealDetails | undefined)[],
  now: number,
) {
  const resource = live.resource.filter((o) => o.offer.provider === address);
  const model = live.model.filter((o) => o.offer.provider === address);
  // A provider's offers describe one machine (each a set of modules it allows), so what it
  // offers is the largest of them in each dimension, not their sum.
  const offered = resource.reduce(
    (m, { offer: o }) => ({
      cpu: Math.max(m.cpu, o.cpu),
      memoryMb: Math.max(m.memoryMb, o.memoryMb),
      gpu: Math.max(m.gpu, o.gpu),
      vramMb: Math.max(m.vramMb, o.vramMb),
    }),
    NO_RESOURCES,
  );
  const inUse = activeDetails.reduce(
    (m, d) =>
      d
        ? { cpu: m.cpu + d.resources.cpu, memoryMb: m.memoryMb + d.resources.memoryMb, gpu: m.gpu + d.resources.gpu, vramMb: m.vramMb + d.resources.vramMb }
        : m,
    NO_RESOURCES,
  );
  const jobs = { total: 0, open: 0, committed: 0, challenged: 0, settled: 0, timedOut: 0, slashed: 0 };
  for (const d of snap.deals.values()) {
    if (d.provider !== address) continue;
    jobs.total++;
    jobs[d.state]++;
  }
  const leases = { total: 0, open: 0, closed: 0, reclaimed: 0, answers: 0 };
  for (const l of snap.leases.values()) {
    if (l.provider !== address) continue;
    leases.total++;
    leases[l.state]++;
    leases.answers += l.requests ?? 0;
  }
  let earned = 0n;
  const series = snap.earnings
    .filter((e) => e.provider === address)
    .map((e) => {
      earned += e.amount;
      return { time: e.time, earned: earned.toString(), amount: e.amount.toString(), kind: e.kind, id: e.id, tx: e.tx };
    });
  const slashes = snap.slashes
    .filter((s) => s.provider === address)
    .map((s) => ({ time: s.time, amount: s.amount.toString(), reason: s.reason, id: s.id, tx: s.tx }));
  return {
    address,
    block: snap.block.toString(),
    online: isOnline(address, snap, live, now),
    lastSeen: snap.lastSeen.get(address) ?? null,
    capacity: { offered, inUse, activeDeals: activeDetails.length, unknownDeals: activeDetails.filter((d) => !d).length },
    offers: {
      resource: resource.map(({ id, offer: o }) => ({
        id,
        price: o.price.toString(),
        collateral: o.collateral.toString(),
        modules: o.modules,
        expiresAt: Number(o.expiresAt),
      })),
      model: model.map(({ id, offer: o }) => ({ id, model: o.model, outputPricePer1k: o.outputPricePer1k.toString(), expiresAt: Number(o.expiresAt) })),
    },
    jobs,
    leases,
    earned: earned.toString(),
    /** Cumulative earnings after each payment, oldest first (at most EARNINGS_POINTS, the newest). */
    earnings: series.slice(-EARNINGS_POINTS),
    slashes: slashes.slice(-EARNINGS_POINTS),
    slashed: slashes.reduce((sum, s) => sum + BigInt(s.amount), 0n).toString(),
    deals: recent,
  };
}
