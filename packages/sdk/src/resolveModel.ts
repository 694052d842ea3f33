// Turn what a user names into a verified model manifest, exactly as modules are resolved
// (resolveModule.ts): `name@version` or `name` through the on-chain registry, a CID as given.
// A module's manifest named where a model is expected is refused by name.
import type { LilyClient } from "@lily/chain";
import { LilyError, ModelManifest, isModelManifest, parse, type RegistryEntry } from "@lily/protocol";
import type { StoreClient } from "@lily/store";
import { resolveRegistered } from "./resolveModule.ts";

export interface ResolvedModel {
  cid: string;
  manifest: ModelManifest;
  entry?: RegistryEntry;
}

export async function resolveModel(ref: string, peers: { chain: LilyClient; store: StoreClient }): Promise<ResolvedModel> {
  return resolveRegistered(ref, peers, (record) => {
    // REJECT: a module is not a model; say so rather than listing every missing field
    if (!isModelManifest(record)) throw new LilyError({ code: "UNKNOWN_MODULE", field: "model", message: `"${ref}" is a module, not a model` });
    return parse(ModelManifest, record, "model manifest");
  });
}
