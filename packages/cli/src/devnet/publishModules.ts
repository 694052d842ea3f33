// Put every built module (wasm + manifest) into the devnet's store, checking the store hands back
// the CIDs the build computed. Returns the registry name@version -> manifest CID.
import { LilyError } from "@lily/protocol";
import type { StoreClient } from "@lily/store";
import { loadCatalog } from "@lily/modules";

export async function publishModules(store: StoreClient): Promise<Record<string, string>> {
  const registry: Record<string, string> = {};
  for (const m of loadCatalog()) {
    const wasmCid = await store.putBytes(m.wasmBytes);
    const manifestCid = await store.putRecordBytes(m.manifestBytes);
    if (wasmCid !== m.wasmCid || manifestCid !== m.manifestCid) {
      throw new LilyError({ code: "CID_MISMATCH", field: `modules.${m.ref}`, message: `store returned different CIDs for ${m.ref}` });
    }
    registry[m.ref] = manifestCid;
  }
  return registry;
}
