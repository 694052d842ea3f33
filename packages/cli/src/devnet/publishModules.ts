// Publish every built module through the registry, as any module creator would: artifact and
// manifest into the devnet's store (checked against the CIDs the build computed), then name@version
// on chain from the deployer's account. A resumed devnet finds them published already. Returns
// name@version -> manifest CID.
import type { LilyClient } from "@lily/chain";
import { loadCatalog } from "@lily/modules";
import { publishBuiltModule } from "@lily/sdk";
import type { StoreClient } from "@lily/store";

export async function publishModules(peers: { chain: LilyClient; store: StoreClient }): Promise<Record<string, string>> {
  const published: Record<string, string> = {};
  for (const m of loadCatalog()) {
    const { ref, manifestCid } = await publishBuiltModule(peers, { ...m, artifact: { bytes: m.wasmBytes } });
    published[ref] = manifestCid;
  }
  return published;
}
