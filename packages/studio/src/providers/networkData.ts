// What the Providers pages read from the gateway: GET /v1/network (providers, open offers, recent
// deals, gas spent) and GET /v1/providers/:address (one provider's dashboard), read again every few
// seconds while the page is visible, so a settled job shows up without a reload.
import { useEffect, useState } from "react";
import { getJson } from "../gateway.ts";

/** One deal as GET /v1/network/deals and the pages below list it. */
export interface DealRow {
  id: string;
  /** The module's manifest CID; null when the gateway could not learn it (a deal another solver made). */
  module: string | null;
  provider: string;
  jobCreator: string;
  price: string;
  state: string;
  openedAt: number;
  openTx: string;
  settledTx?: string;
  /** Gas of all its transactions, each counted whole (a trust batch's also carried other deals). */
  gasUsed: string;
  /** A trust deal's batch on LilyTrustDeals: its transactions each opened or settled several deals. */
  trust?: {
    batchNo: string;
    nonce: string;
    /** How many deals its opening transaction opened. */
    batchSize: number;
    /** Its share of its transactions' gas: each one's gas over the deals it moved. */
    gasShare: string;
  };
}

/** How often an open page asks again (the gateway reads the chain at most every 3 s anyway). */
export const REFRESH_MS = 4_000;

export interface Resources {
  cpu: number;
  memoryMb: number;
  gpu: number;
  vramMb: number;
}

export interface NetworkView {
  block: string;
  totals: { providers: number; resourceOffers: number; modelOffers: number; deals: number; leases: number };
  providers: {
    address: string;
    online: boolean;
    lastSeen: number | null;
    offers: number;
    deals: number;
    activeDeals: number;
    leases: number;
    earned: string;
  }[];
  offers: {
    resource: {
      id: string;
      provider: string;
      price: string;
      collateral: string;
      cpu: number;
      memoryMb: number;
      gpu: number;
      vramMb: number;
      modules: string[];
      expiresAt: number;
    }[];
    model: { id: string; provider: string; model: string; inputPricePer1k: string; outputPricePer1k: string; collateral: string; expiresAt: number }[];
  };
  deals: DealRow[];
  gas: { transactions: number; gasUsed: string; feeWei: string };
}

export interface EarningPoint {
  time: number;
  /** Cumulative, in base units, after this payment. */
  earned: string;
  amount: string;
  kind: "deal" | "lease";
  id: string;
  tx: string;
}

export interface ProviderView {
  address: string;
  block: string;
  online: boolean;
  lastSeen: number | null;
  capacity: { offered: Resources; inUse: Resources; activeDeals: number; unknownDeals: number };
  offers: {
    resource: { id: string; price: string; collateral: string; modules: string[]; expiresAt: number }[];
    model: { id: string; model: string; outputPricePer1k: string; expiresAt: number }[];
  };
  jobs: { total: number; open: number; committed: number; challenged: number; settled: number; timedOut: number; slashed: number };
  leases: { total: number; open: number; closed: number; reclaimed: number; answers: number };
  earned: string;
  earnings: EarningPoint[];
  slashes: { time: number; amount: string; reason: "slashed" | "timedOut" | "lease"; id: string; tx: string }[];
  slashed: string;
  deals: DealRow[];
}

export type Polled<T> = { value?: T; error?: string };

/** GET `path` now and every REFRESH_MS while the tab is visible; keeps the last good value through a failed read. */
export function usePolled<T>(path: string): Polled<T> {
  const [state, setState] = useState<Polled<T>>({});
  useEffect(() => {
    let stopped = false;
    let abort = new AbortController();
    setState({});
    const read = () => {
      if (document.visibilityState === "hidden") return;
      abort = new AbortController();
      getJson<T>(path, { signal: abort.signal }).then(
        (value) => !stopped && setState({ value }),
        (e: unknown) => !stopped && !abort.signal.aborted && setState((s) => ({ value: s.value, error: e instanceof Error ? e.message : String(e) })),
      );
    };
    read();
    const timer = setInterval(read, REFRESH_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
      abort.abort();
    };
  }, [path]);
  return state;
}

export const useNetwork = () => usePolled<NetworkView>("v1/network");
export const useProvider = (address: string) => usePolled<ProviderView>(`v1/providers/${encodeURIComponent(address)}`);

/** Unix seconds as a local date and time. */
export const when = (seconds: number): string => new Date(seconds * 1000).toLocaleString();
