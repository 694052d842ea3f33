// The container modules the build made (`npm run build:images`), published on the devnet like the
// WASM ones: each image's archive into the store as a chunked file (checked to land under the CID
// its manifest names), the manifest, then name@version in the registry. Each image is also loaded
// into the devnet's engine from its archive now (its ID checked), so no provider's first job waits
// for a few hundred MB to load. Not built, or no engine: nothing is published, and the reason is
// returned for the banner.
import { copyFileSync } from "node:fs";
import type { LilyClient } from "@lily/chain";
import { DockerEngine, createImageLoader, type DockerEndpoint } from "@lily/executor";
import { loadContainerCatalog } from "@lily/modules";
import { isLilyError } from "@lily/protocol";
import type { StoreClient } from "@lily/store";
import { publishOnce } from "./publishOnce.ts";

export async function publishContainerModules(
  peers: { chain: LilyClient; store: StoreClient },
  docker: DockerEndpoint,
  onProgress: (line: string) => void,
  notes: string[] = [],
): Promise<{ published: Record<string, string> } | { skipped: string }> {
  let catalog: ReturnType<typeof loadContainerCatalog>;
  try {
    catalog = loadContainerCatalog();
  } catch (e) {
    if (isLilyError(e, "CONFIG")) return { skipped: `${e.message} (run npm run build:images as root)` };
    throw e;
  }
  const loader = createImageLoader({ engine: new DockerEngine(docker) });
  const published: Record<string, string> = {};
  for (const m of catalog) {
    onProgress(`publishing container module ${m.ref} (${m.image.slice(0, 19)})`);
    const outcome = await publishOnce(peers, { ...m, artifact: { path: m.archivePath } });
    if ("kept" in outcome) notes.push(outcome.kept);
    else published[outcome.ref] = outcome.manifestCid;
    // After publishing: the loader reads the archive's root record from the store (its size, checked
    // against the cap before any byte is fetched), so the archive must be there first.
    // The archive is on this disk: "fetching" it is a copy, and the loader still checks the image's ID.
    await loader.ensure(m.manifest.executor, {
      getBytes: (cid) => peers.store.getBytes(cid),
      getRecord: (cid) => peers.store.getRecord(cid),
      getFile: async (_cid, dest) => {
        copyFileSync(m.archivePath, dest);
        return { size: 0 };
      },
    });
  }
  return { published };
}
