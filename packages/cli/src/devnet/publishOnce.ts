// Publishing a built module on a devnet that may be resumed: the very manifest already published
// is a no-op, but a rebuilt module under a version the registry already holds (new sources, or a
// container image built again) cannot replace it, as versions are immutable. That must not stop
// the devnet: the module keeps its published version, and the banner says how to publish the new
// build (--fresh, or a new version).
import type { LilyClient } from "@lily/chain";
import { isLilyError } from "@lily/protocol";
import { publishBuiltModule, type ModuleToPublish } from "@lily/sdk";
import type { StoreClient } from "@lily/store";

export type PublishOutcome = { ref: string; manifestCid: string } | { ref: string; kept: string };

export async function publishOnce(peers: { chain: LilyClient; store: StoreClient }, m: ModuleToPublish & { ref: string }): Promise<PublishOutcome> {
  try {
    const { ref, manifestCid } = await publishBuiltModule(peers, m);
    return { ref, manifestCid };
  } catch (e) {
    if (isLilyError(e, "CHAIN_REVERT") && e.details.error === "RegistryVersionExists")
      return { ref: m.ref, kept: `${m.ref} keeps the build published earlier (versions are immutable): start with --fresh to publish this build` };
    throw e;
  }
}
