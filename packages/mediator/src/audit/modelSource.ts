// Where the auditor gets a lease's model: the manifest by its CID from the store (it names the
// weights and the comparator), the weights from a local GGUF file given to the mediator whose
// sha-256 is the manifest's (`--model <path.gguf>`), or else fetched by their CID from the store
// into the work folder and checked against that sha-256. Loaded runners are kept for the next
// audit, the fewest needed: loading a model is the slow part.
import { createHash } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { LilyError, ModelManifest, isModelManifest, parse, type InferenceRequest, type InferenceResponse } from "@lily/protocol";
import type { Logger } from "@lily/node-kit";
import type { StoreClient } from "@lily/store";

/** What an audit needs of a model runner (the executor's ModelRunner is one). */
export interface AuditModelRunner {
  countInputTokens(request: InferenceRequest): Promise<number>;
  generate(request: InferenceRequest): Promise<InferenceResponse>;
  close(): Promise<void>;
}

export interface ModelSourceDeps {
  store: Pick<StoreClient, "getRecord" | "getFile">;
  logger: Logger;
  /** Local GGUF files the mediator may audit with, matched to manifests by sha-256. */
  localModels: readonly string[];
  /** Where weights fetched from the store are kept. */
  cacheDir: string;
  /** Load a GGUF file (createLlamaRunner in production). */
  loadRunner(modelPath: string): Promise<AuditModelRunner>;
  /** Most models kept loaded at once. */
  maxLoaded?: number;
}

export interface ModelSource {
  manifest(cid: string): Promise<ModelManifest>;
  runner(cid: string): Promise<{ manifest: ModelManifest; runner: AuditModelRunner }>;
  close(): Promise<void>;
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

export function createModelSource(deps: ModelSourceDeps): ModelSource {
  const maxLoaded = deps.maxLoaded ?? 2;
  const manifests = new Map<string, ModelManifest>();
  /** sha-256 -> local path, hashed once on first use. */
  let local: Promise<Map<string, string>> | undefined;
  /** sha-256 -> loaded runner, oldest first. */
  const loaded = new Map<string, Promise<AuditModelRunner>>();

  async function manifest(cid: string): Promise<ModelManifest> {
    const known = manifests.get(cid);
    if (known) return known;
    const record = await deps.store.getRecord(cid);
    // REJECT: a lease's model must be a model manifest
    if (!isModelManifest(record)) throw new LilyError({ code: "UNKNOWN_MODULE", field: "lease.model", message: `lease.model: ${cid} is not a model manifest` });
    const m = parse(ModelManifest, record, "lease.model");
    manifests.set(cid, m);
    return m;
  }

  async function localFiles(): Promise<Map<string, string>> {
    local ??= (async () => {
      const byDigest = new Map<string, string>();
      for (const path of deps.localModels) byDigest.set(await sha256File(path), path);
      return byDigest;
    })();
    return local;
  }

  async function weightsPath(m: ModelManifest): Promise<string> {
    const path = (await localFiles()).get(m.sha256);
    if (path) return path;
    const cached = join(deps.cacheDir, `${m.sha256}.gguf`);
    if (existsSync(cached)) return cached;
    mkdirSync(deps.cacheDir, { recursive: true });
    deps.logger.info("fetching model weights for audits", { model: `${m.name}@${m.version}`, weights: m.weights, sizeBytes: m.sizeBytes });
    await deps.store.getFile(m.weights, cached);
    const digest = await sha256File(cached);
    // REJECT: weights that are not the manifest's file are never run
    if (digest !== m.sha256) {
      rmSync(cached, { force: true });
      throw new LilyError({
        code: "CID_MISMATCH",
        field: "weights",
        message: `weights: ${m.weights} has sha-256 ${digest}, the manifest of ${m.name}@${m.version} says ${m.sha256}`,
      });
    }
    return cached;
  }

  async function runner(cid: string): Promise<{ manifest: ModelManifest; runner: AuditModelRunner }> {
    const m = await manifest(cid);
    let r = loaded.get(m.sha256);
    if (r) {
      loaded.delete(m.sha256); // most recently used goes last
    } else {
      r = weightsPath(m).then((path) => deps.loadRunner(path));
      // A load that failed is forgotten, so the next audit tries again.
      r.catch(() => loaded.get(m.sha256) === r && loaded.delete(m.sha256));
    }
    loaded.set(m.sha256, r);
    while (loaded.size > maxLoaded) {
      const [oldest, evicted] = loaded.entries().next().value!;
      loaded.delete(oldest);
      await evicted.then((x) => x.close()).catch((e: unknown) => deps.logger.warn("closing an evicted model failed", { err: e }));
    }
    return { manifest: m, runner: await r };
  }

  return {
    manifest,
    runner,
    async close() {
      const all = [...loaded.values()];
      loaded.clear();
      // A load that failed was already reported to the audit that asked for it: nothing to close.
      for (const r of all)
        await r.then(
          (x) => x.close(),
          () => undefined,
        );
    },
  };
}
