// Turn `name@version` or a manifest CID into a verified module manifest fetched from the store.
import { isCid, LilyError, ModuleManifest, parse } from "@lily/protocol";
import type { StoreClient } from "@lily/store";

export async function resolveModule(ref: string, registry: Record<string, string>, store: StoreClient): Promise<{ cid: string; manifest: ModuleManifest }> {
  const cid = isCid(ref) ? ref : registry[ref];
  if (!cid) {
    const known = Object.keys(registry).sort().join(", ") || "none";
    const hint = ref.includes("@") ? `known modules: ${known}` : `give a version, e.g. ${ref}@1.0.0 (known: ${known})`;
    throw new LilyError({ code: "UNKNOWN_MODULE", field: "module", message: `unknown module "${ref}"`, hint });
  }
  let record: unknown;
  try {
    record = await store.getRecord(cid);
  } catch (e) {
    if (e instanceof LilyError && e.code === "NOT_FOUND") {
      throw new LilyError({ code: "UNKNOWN_MODULE", field: "module", message: `module manifest ${cid} is not in the store at ${store.url}` });
    }
    throw e;
  }
  return { cid, manifest: parse(ModuleManifest, record, "module manifest") };
}
