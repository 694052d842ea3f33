// Which models the gateway can serve, and what a request's `model` names. A model is named as
// users name modules: `name`, `name@version`, or its manifest's CID, resolved through the on-chain
// registry (sdk resolveModel) and cached briefly, since every request names one. /v1/models lists
// the registered models some provider offers right now.
import { zeroAddress } from "viem";
import { createClient, modelOfferRoutes } from "@lily/api";
import { latestModule, listModuleNames, type LilyClient } from "@lily/chain";
import { LilyError, isModelManifest, royaltyTermsOf, type ModelManifest } from "@lily/protocol";
import { resolveModel, type ResolvedModel } from "@lily/sdk";
import type { StoreClient } from "@lily/store";
import type { ModelRef } from "./leases/leaseManager.ts";

const CACHE_MS = 30_000;

export interface ServedModel extends ModelRef {
  /** What users call it: name@version, or the CID when it is not registered. */
  ref: string;
  manifest: ModelManifest;
}

export interface ListedModel {
  id: string;
  created: number;
  owned_by: string;
  version: string;
  cid: string;
  context_length: number;
  providers: number;
}

export function createModelCatalog(peers: { chain: LilyClient; store: StoreClient; solverUrl: string }) {
  const cache = new Map<string, { at: number; model: Promise<ServedModel> }>();
  const solver = createClient(peers.solverUrl, modelOfferRoutes, { peer: `solver at ${peers.solverUrl}` });

  async function load(ref: string): Promise<ServedModel> {
    let resolved: ResolvedModel;
    try {
      resolved = await resolveModel(ref, peers);
    } catch (e) {
      if (e instanceof LilyError && (e.code === "UNKNOWN_MODULE" || e.code === "INVALID_INPUT")) {
        throw new LilyError({ code: "UNKNOWN_MODULE", field: "model", message: `The model \`${ref}\` does not exist (${e.message})` });
      }
      throw e;
    }
    const m = resolved.manifest;
    return {
      ref: resolved.entry ? `${m.name}@${m.version}` : resolved.cid,
      cid: resolved.cid,
      manifest: m,
      royalty: resolved.entry ? royaltyTermsOf(resolved.entry) : { moduleCreator: zeroAddress, royaltyBps: 0 },
    };
  }

  return {
    /** The model a request names; UNKNOWN_MODULE (404 model_not_found) when there is none. */
    resolve(ref: string): Promise<ServedModel> {
      const hit = cache.get(ref);
      if (hit && Date.now() - hit.at < CACHE_MS) return hit.model;
      const model = load(ref);
      cache.set(ref, { at: Date.now(), model });
      model.catch(() => cache.delete(ref));
      return model;
    },

    /** Registered models with at least one live offer. */
    async list(): Promise<ListedModel[]> {
      const { names } = await listModuleNames(peers.chain, {});
      const out: ListedModel[] = [];
      for (const name of names) {
        const entry = await latestModule(peers.chain, { name });
        const record = await peers.store.getRecord(entry.manifestCid).catch(() => undefined);
        if (!isModelManifest(record)) continue;
        const model = await this.resolve(name);
        const { offers } = await solver.listModelOffers({ query: { model: model.cid } });
        if (offers.length === 0) continue;
        out.push({
          id: name,
          created: entry.publishedAt,
          owned_by: entry.creator,
          version: model.manifest.version,
          cid: model.cid,
          context_length: model.manifest.contextLength,
          providers: new Set(offers.map((o) => o.offer.provider)).size,
        });
      }
      return out;
    },
  };
}

export type ModelCatalog = ReturnType<typeof createModelCatalog>;
