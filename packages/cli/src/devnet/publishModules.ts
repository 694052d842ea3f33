// Publish every built module through the registry, as any module creator would: artifact and
// manifest into the devnet's store (checked against the CIDs the build computed), then name@version
// on chain from the deployer's account. A resumed devnet finds them published already. Returns
// name@version -> manifest CID.
import type { LilyClient } from "@lily/chain";
import { loadCatalog } from "@lily/modules";
import type { StoreClient } from "@lily/store";
import { publishOnce } from "./publishOnce.ts";

/** name@version -> manifest CID of what was published; `notes`: modules that kept an earlier build. */
export async function publishModules(peers: { chain: LilyClient; store: StoreClient }, notes: string[] = []): Promise<Record<string, string>> {
  const published: Record<string, string> = {};
  for (const m of loadCatalog()) {
    const outcome = await publishOnce(peers, { ...m, artifact: { bytes: m.wasmBytes } });
    if ("kept" in outcome) notes.push(outcome.kept);
    else published[outcome.ref] = outcome.manifestCid;
  }
  return published;
}
