// Publishing a module from the browser, step by step, each reported as it starts and ends:
//   check     the artifact hashes to the CID the manifest names (before anything is sent)
//   registry  the registry would take name@version from this account (a simulated call: a version
//             already published or a name held by someone else is refused before any upload)
//   artifact  the binary into the store through the gateway (which checks the CID again)
//   manifest  the manifest into the store (the gateway checks its CID, schema and artifact)
//   chain     name@version registered on chain, signed by the user's own account
import type { Hash } from "viem";
import { checkArtifact, type PickedManifest } from "./readManifest.ts";
import { registrarFor } from "./registry.ts";
import { uploadBlock } from "./upload.ts";

export const STEPS = [
  { id: "check", label: "Artifact checked against the manifest's CID" },
  { id: "registry", label: "Registry checked: the name and version are free for this account" },
  { id: "artifact", label: "Artifact uploaded to the store" },
  { id: "manifest", label: "Manifest uploaded to the store" },
  { id: "chain", label: "Registered on chain by your account" },
] as const;
export type StepId = (typeof STEPS)[number]["id"];
export type StepState = "waiting" | "running" | "done" | "failed";

export interface Published {
  hash: Hash;
  blockNumber: bigint;
}

export async function publishFromBrowser(
  p: { manifest: PickedManifest; artifact: Uint8Array; token: string; address: string },
  report: (step: StepId, state: StepState, detail?: string) => void,
): Promise<Published> {
  let current: StepId = "check";
  const step = async <T>(id: StepId, run: () => Promise<T> | T): Promise<T> => {
    current = id;
    report(id, "running");
    const out = await run();
    report(id, "done");
    return out;
  };
  try {
    await step("check", () => checkArtifact(p.manifest, p.artifact));
    const registration = { name: p.manifest.name, version: p.manifest.version, manifestCid: p.manifest.cid, royaltyBps: p.manifest.royaltyBps };
    const registrar = await step("registry", async () => {
      const r = await registrarFor(p.address);
      await r.check(registration);
      return r;
    });
    await step("artifact", () => uploadBlock("artifacts", p.manifest.artifactCid!, p.artifact, p.token));
    await step("manifest", () => uploadBlock("manifests", p.manifest.cid, p.manifest.bytes, p.token));
    return await step("chain", () => registrar.register(registration, (hash) => report("chain", "running", hash)));
  } catch (e) {
    report(current, "failed", e instanceof Error ? e.message : String(e));
    throw e;
  }
}
