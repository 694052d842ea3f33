// The marketplace's catalogue (GET /v1/catalog): every name in the on-chain registry at its latest
// version, read from its manifest (a module's or a model's), with the live prices providers ask
// for it now. Modules are priced per job by the solver's open resource offers that allow the
// module's CID (the rule `lily module list` applies); models per 1,000 output tokens by the
// solver's model offers. Manifests are content-addressed, so they are kept once read; the list
// and the prices are read again after a few seconds.
import { createClient, modelOfferRoutes, solverRoutes } from "@lily/api";
import { getModule, latestModule, listModuleNames, listModuleVersions, type LilyClient } from "@lily/chain";
import { LilyError, ModelManifest, ModuleManifest, isModelManifest, priceRange, type PricedOffer, type RegistryEntry } from "@lily/protocol";
import type { StoreClient } from "@lily/store";

export const CATALOG_CACHE_MS = 5_000;

/** Live prices, as decimal strings of token base units. */
export interface CatalogPrices {
  /** Providers with a current offer for it. */
  providers: number;
  min?: string;
  max?: string;
}

export interface CatalogEntry {
  name: string;
  version: string;
  kind: "module" | "model";
  cid: string;
  description: string;
  creator: string;
  royaltyBps: number;
  license: string;
  executor?: "wasm" | "docker";
  inputs?: ModuleManifest["inputs"];
  required?: string[];
  contextLength?: number;
  /** Modules: per job, from resource offers. Models: per 1,000 output tokens, from model offers. */
  prices: CatalogPrices;
}

/** The range of prices among current offers for `cid` (protocol's priceRange), as decimal strings for JSON. */
export function pricesFor(cid: string, offers: readonly PricedOffer[], nowSeconds: number): CatalogPrices {
  const { providers, min, max } = priceRange(cid, offers, nowSeconds);
  return min === undefined || max === undefined ? { providers } : { providers, min: min.toString(), max: max.toString() };
}

type Manifest = { kind: "module"; manifest: ModuleManifest } | { kind: "model"; manifest: ModelManifest };

export function createCatalog(peers: { chain: LilyClient; store: StoreClient; solverUrl: string }, deps: { now?: () => number } = {}) {
  const now = deps.now ?? (() => Math.floor(Date.now() / 1000));
  const solver = createClient(peers.solverUrl, solverRoutes, { peer: `solver at ${peers.solverUrl}` });
  const modelOffers = createClient(peers.solverUrl, modelOfferRoutes, { peer: `solver at ${peers.solverUrl}` });
  const manifests = new Map<string, Promise<Manifest | undefined>>();
  let cached: { at: number; entries: Promise<CatalogEntry[]> } | undefined;

  /** A manifest by its CID; undefined when the store lacks it or it is neither a module's nor a model's. */
  function manifest(cid: string): Promise<Manifest | undefined> {
    let hit = manifests.get(cid);
    if (!hit) {
      hit = peers.store.getRecord(cid).then((record): Manifest | undefined => {
        if (isModelManifest(record)) {
          const m = ModelManifest.safeParse(record);
          return m.success ? { kind: "model", manifest: m.data } : undefined;
        }
        const m = ModuleManifest.safeParse(record);
        return m.success ? { kind: "module", manifest: m.data } : undefined;
      });
      manifests.set(cid, hit);
      // A store that was down is asked again next time.
      hit.catch(() => manifests.delete(cid));
    }
    return hit;
  }

  async function registry(): Promise<RegistryEntry[]> {
    const entries: RegistryEntry[] = [];
    for (let offset = 0; ; ) {
      const { names, total } = await listModuleNames(peers.chain, { offset });
      entries.push(...(await Promise.all(names.map((name) => latestModule(peers.chain, { name })))));
      offset += names.length;
      if (names.length === 0 || offset >= total) return entries;
    }
  }

  async function load(): Promise<CatalogEntry[]> {
    const [entries, resources, models] = await Promise.all([registry(), solver.listResourceOffers({}), modelOffers.listModelOffers({ query: {} })]);
    const moduleOffers: PricedOffer[] = resources.offers.map(({ offer: o }) => ({
      provider: o.provider,
      cids: o.modules,
      price: o.price,
      expiresAt: o.expiresAt,
    }));
    const modelPrices: PricedOffer[] = models.offers.map(({ offer: o }) => ({
      provider: o.provider,
      cids: [o.model],
      price: o.outputPricePer1k,
      expiresAt: o.expiresAt,
    }));
    const at = now();
    const out: CatalogEntry[] = [];
    for (const entry of entries) {
      const found = await manifest(entry.manifestCid).catch(() => undefined);
      if (!found) continue;
      const m = found.manifest;
      const common = {
        name: entry.name,
        version: m.version,
        cid: entry.manifestCid,
        description: m.description,
        creator: entry.creator,
        royaltyBps: entry.royaltyBps,
        license: m.license,
      };
      if (found.kind === "model") {
        out.push({ ...common, kind: "model", contextLength: found.manifest.contextLength, prices: pricesFor(entry.manifestCid, modelPrices, at) });
      } else {
        const mod = found.manifest;
        out.push({
          ...common,
          kind: "module",
          executor: mod.executor.kind,
          inputs: mod.inputs,
          required: mod.required,
          prices: pricesFor(entry.manifestCid, moduleOffers, at),
        });
      }
    }
    return out;
  }

  return {
    /** The registry's latest versions with live prices, read at most every few seconds. */
    entries(): Promise<CatalogEntry[]> {
      if (cached && Date.now() - cached.at < CATALOG_CACHE_MS) return cached.entries;
      const entries = load();
      const mine = { at: Date.now(), entries };
      cached = mine;
      entries.catch(() => {
        if (cached === mine) cached = undefined;
      });
      return entries;
    },

    /**
     * One name's page (the studio's module page): its latest version as the catalogue shows it and
     * its newest published versions. A name published since the list was read is read again at once
     * rather than reported missing. UNKNOWN_MODULE (404) for a name nobody published.
     */
    async module(name: string): Promise<ModuleDetail> {
      let entry = (await this.entries()).find((e) => e.name === name);
      if (!entry) {
        await latestModule(peers.chain, { name }); // UNKNOWN_MODULE when never published
        cached = undefined;
        entry = (await this.entries()).find((e) => e.name === name);
        if (!entry) throw new LilyError({ code: "UNKNOWN_MODULE", field: "name", message: `${name}'s manifest is not in the store, so it has no page` });
      }
      const names = (await listModuleVersions(peers.chain, { name })).slice(-MODULE_VERSIONS_SHOWN).reverse();
      const versions = await Promise.all(
        names.map(async (version) => {
          const v = await getModule(peers.chain, { name, version });
          return { version, manifestCid: v.manifestCid, publishedAt: v.publishedAt };
        }),
      );
      return { entry, versions };
    },
  };
}

export type Catalog = ReturnType<typeof createCatalog>;

/** How many of a name's versions its page lists, newest first. */
export const MODULE_VERSIONS_SHOWN = 50;

/** GET /v1/catalog/:name: the latest version's catalogue entry and the newest versions. */
export interface ModuleDetail {
  entry: CatalogEntry;
  versions: { version: string; manifestCid: string; publishedAt: number }[];
}
