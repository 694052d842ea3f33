// Job inputs from the user's raw strings to a content-addressed inputs record: typed by the
// module's schema, file inputs uploaded to the store (the record holds their CIDs), and the
// whole record validated before anything is signed or paid.
import { readFileSync, existsSync, statSync } from "node:fs";
import { coerceInput, validateInputs, LilyError, isCid, type ModuleManifest, type Inputs } from "@lily/protocol";
import type { StoreClient } from "@lily/store";

export async function prepareInputs(
  manifest: ModuleManifest,
  raw: Record<string, string | number | boolean>,
  store: StoreClient,
): Promise<{ inputs: Inputs; cid: string }> {
  const typed: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(raw)) {
    const field = manifest.inputs[name];
    if (!field) {
      typed[name] = value; // validateInputs names the unknown input
      continue;
    }
    if (field.type === "file" && typeof value === "string" && !isCid(value)) {
      const path = value.startsWith("@") ? value.slice(1) : value;
      if (!existsSync(path) || !statSync(path).isFile()) {
        throw new LilyError({ code: "INVALID_INPUT", field: `inputs.${name}`, message: `inputs.${name}: no such file ${path}` });
      }
      typed[name] = await store.putBytes(new Uint8Array(readFileSync(path)));
      continue;
    }
    typed[name] = typeof value === "string" ? coerceInput(name, field, value) : value;
  }
  const inputs = validateInputs(manifest, typed);
  return { inputs, cid: await store.putRecord(inputs) };
}
