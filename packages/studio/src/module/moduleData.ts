// What a module's page reads: GET /v1/catalog/:name (its latest version as the marketplace shows
// it, and its versions) and its recent runs from GET /v1/network/deals?module=<manifest CID>. A
// gateway without the deals route (404) has no runs to show; the page says so instead of failing.
import { useEffect, useState } from "react";
import { type CatalogEntry, GatewayError, getJson } from "../gateway.ts";
import type { DealRow } from "../providers/networkData.ts";

export interface ModuleDetail {
  entry: CatalogEntry;
  versions: { version: string; manifestCid: string; publishedAt: number }[];
}

/** One deal that ran the module: the network view's own type, from the same route. */
export type { DealRow } from "../providers/networkData.ts";

export type Loaded<T> = { state: "loading" } | { state: "ok"; value: T } | { state: "missing"; message: string } | { state: "error"; message: string };

function useLoad<T>(path: string | null): Loaded<T> {
  const [loaded, setLoaded] = useState<Loaded<T>>({ state: "loading" });
  useEffect(() => {
    if (!path) return;
    const abort = new AbortController();
    setLoaded({ state: "loading" });
    getJson<T>(path, { signal: abort.signal }).then(
      (value) => setLoaded({ state: "ok", value }),
      (e: unknown) => {
        if (abort.signal.aborted) return;
        if (e instanceof GatewayError && e.status === 404) setLoaded({ state: "missing", message: e.message });
        else setLoaded({ state: "error", message: e instanceof Error ? e.message : String(e) });
      },
    );
    return () => abort.abort();
  }, [path]);
  return loaded;
}

export const useModuleDetail = (name: string) => useLoad<ModuleDetail>(`v1/catalog/${encodeURIComponent(name)}`);

export const useRecentRuns = (manifestCid: string | undefined) =>
  useLoad<{ deals: DealRow[] }>(manifestCid ? `v1/network/deals?module=${encodeURIComponent(manifestCid)}&limit=10` : null);
