// Job inputs from the user's raw strings to a content-addressed inputs record: typed by the
// module's schema, file inputs uploaded to the store (the record holds their CIDs), and the
// whole record validated before anything is signed or paid.
import { readFileSync, existsSync, statSync } from "node:fs";
import { cidForBytes, cidForRecord, coerceInput, validateInputs, LilyError, isCid, isLilyError, type ModuleManifest, type Inputs } from "@lily/protocol";
import { defaultStoreOptions, type StoreClient } from "@lily/store";

/** Where inputs go: the store, or for a dry run `hashOnly`, which computes the same CIDs and keeps nothing. */
export type InputStore = Pick<StoreClient, "putBytes" | "putRecord">;

export const hashOnly: InputStore = {
  putBytes: async (bytes) => cidForBytes(bytes),
  putRecord: async (value) => cidForRecord(value).cid,
};

/** A file input the store will not take, named as the input rather than as the upload's body. */
function fileTooLarge(name: string, path: string, sizeBytes: number, limitBytes: number | undefined, cause?: unknown): LilyError {
  return new LilyError({
    code: "INVALID_INPUT",
    field: `inputs.${name}`,
    message: `inputs.${name}: ${path} is ${sizeBytes} bytes, over the store's limit${limitBytes === undefined ? "" : ` of ${limitBytes} bytes`}`,
    hint: "pass a smaller file; nothing was signed or paid",
    details: { path, sizeBytes, ...(limitBytes !== undefined && { limitBytes }) },
    cause,
  });
}

/** Upload one file input; the store refusing its bytes can only be for their size. */
async function uploadFile(store: InputStore, name: string, path: string, sizeBytes: number): Promise<string> {
  try {
    return await store.putBytes(new Uint8Array(readFileSync(path)));
  } catch (e) {
    if (isLilyError(e, "INVALID_INPUT") && e.field === "body") {
      const limit = e.details.limitBytes;
      throw fileTooLarge(name, path, sizeBytes, typeof limit === "number" ? limit : undefined, e);
    }
    throw e;
  }
}

export async function prepareInputs(
  manifest: ModuleManifest,
  raw: Record<string, string | number | boolean>,
  store: InputStore,
): Promise<{ inputs: Inputs; cid: string }> {
  const typed: Record<string, unknown> = {};
  const files: { name: string; path: string; size: number }[] = [];
  for (const [name, value] of Object.entries(raw)) {
    const field = manifest.inputs[name];
    if (!field) {
      typed[name] = value; // validateInputs names the unknown input
      continue;
    }
    if (field.type === "file" && typeof value === "string" && !isCid(value)) {
      const path = value.startsWith("@") ? value.slice(1) : value;
      const stat = existsSync(path) ? statSync(path) : undefined;
      if (!stat?.isFile()) {
        throw new LilyError({ code: "INVALID_INPUT", field: `inputs.${name}`, message: `inputs.${name}: no such file ${path}` });
      }
      const size = stat.size;
      // REJECT: a file over the store's limit is refused before any byte is uploaded
      if (size > defaultStoreOptions.maxBlockBytes) throw fileTooLarge(name, path, size, defaultStoreOptions.maxBlockBytes);
      files.push({ name, path, size });
      continue;
    }
    typed[name] = typeof value === "string" ? coerceInput(name, field, value) : value;
  }
  // Uploads come last, so an input that is wrong in any other way costs no upload.
  for (const f of files) typed[f.name] = await uploadFile(store, f.name, f.path, f.size);
  const inputs = validateInputs(manifest, typed);
  return { inputs, cid: await store.putRecord(inputs) };
}
