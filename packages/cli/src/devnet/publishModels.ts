// Publish the devnet's model through the registry as any model creator would (`lily model add`):
// the tiny random-weight GGUF that `npm run build:modules` writes. Its text is noise; it exists so
// the whole inference path (leases, vouchers, receipts, audits) runs on any machine with no download.
// Returns name@version -> manifest CID, or a note when the file is missing.
import { existsSync } from "node:fs";
import type { LilyClient } from "@lily/chain";
import { TINY_MODEL_PATH } from "@lily/modules/tinyModel";
import type { StoreClient } from "@lily/store";
import { describeModel } from "../model/modelManifest.ts";
import { publishOnce } from "./publishOnce.ts";

/** The devnet model's registry name and version. */
export const DEVNET_MODEL = { name: "tiny", version: "1.0.0" } as const;
export const DEVNET_MODEL_REF = `${DEVNET_MODEL.name}@${DEVNET_MODEL.version}`;

export async function publishModels(peers: { chain: LilyClient; store: StoreClient }, notes: string[]): Promise<Record<string, string>> {
  if (!existsSync(TINY_MODEL_PATH)) {
    notes.push(`no model served: ${TINY_MODEL_PATH} is missing (run \`npm run build:modules\`)`);
    return {};
  }
  const described = await describeModel({
    path: TINY_MODEL_PATH,
    ...DEVNET_MODEL,
    description: "a tiny random-weight llama (its text is noise): for trying the inference API anywhere",
    inputPer1k: 10n ** 14n, // 0.0001 LILY per 1,000 prompt tokens
    outputPer1k: 2n * 10n ** 14n,
    embeddings: true,
    license: "CC0-1.0",
  });
  const outcome = await publishOnce(peers, { ...described, ref: DEVNET_MODEL_REF, artifact: { path: TINY_MODEL_PATH } });
  if ("kept" in outcome) {
    notes.push(outcome.kept);
    return {};
  }
  return { [outcome.ref]: outcome.manifestCid };
}
