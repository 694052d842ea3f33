// The registry's modules and models with live prices (GET /v1/catalog), fetched once per page.
import { useEffect, useState } from "react";
import { type CatalogEntry, catalog } from "./gateway.ts";

export function useCatalog(): { entries: CatalogEntry[] | null; error: string | null } {
  const [entries, setEntries] = useState<CatalogEntry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    catalog().then(setEntries, (e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  }, []);
  return { entries, error };
}
