// The modules a provider may offer, read from their manifests in the store: what pricing and the
// allow and deny lists work on. A manifest no store has, or that is not a module manifest, is left
// out (said why); a store that does not answer is an error, for the caller to ask again.
import { ModuleManifest, isLilyError, isModelManifest, parse } from "@lily/protocol";
import type { JobSource } from "@lily/executor";
import { moduleInfo, type ModuleInfo } from "./pricing.ts";

export interface KnownModules {
  modules: ModuleInfo[];
  /** Candidates that could not be read as modules, with why. */
  unreadable: { cid: string; why: string }[];
  /** Candidates that are models: never offered as jobs, so never to be read again. */
  models: string[];
}

export async function readModules(source: JobSource, cids: readonly string[]): Promise<KnownModules> {
  const known: KnownModules = { modules: [], unreadable: [], models: [] };
  for (const cid of new Set(cids)) {
    try {
      const record = await source.getRecord(cid);
      // Models share the registry with modules; they are served under leases, not offered as jobs.
      if (isModelManifest(record)) {
        known.models.push(cid);
        continue;
      }
      known.modules.push(moduleInfo(cid, parse(ModuleManifest, record, `module ${cid}`)));
    } catch (e) {
      if (!isLilyError(e, "NOT_FOUND") && !isLilyError(e, "INVALID_INPUT") && !isLilyError(e, "CID_MISMATCH")) throw e;
      known.unreadable.push({ cid, why: e.message });
    }
  }
  return known;
}
