// Re-run a disputed job exactly as a provider runs it: everything it needs fetched and checked by
// the provider's own `loadJob` (the store client re-hashes every block), /inputs laid out by the
// same code (@lily/executor), the same sandbox and memory cap. Only the wall clock is more
// generous (`timeoutFactor`). A job that cannot run for its job creator's reason is not run: the
// reference is that failure, which an honest provider committed byte for byte.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { ModuleManifest } from "@lily/protocol";
import { jobTaskSpec, loadJob, prepareJobDirs, removeJobDirs, type Executor, type LoadJobOptions } from "@lily/executor";
import type { StoreClient } from "@lily/store";
import type { Logger } from "@lily/node-kit";
import type { Reference } from "./judge.ts";

export interface RerunDeps {
  store: StoreClient;
  executor: Executor & LoadJobOptions;
  logger: Logger;
  workDir: string;
  timeoutFactor: number;
}

/** Every regular file in a flat outputs directory, by name. */
export function readOutputs(dir: string): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isFile()) files.set(name, new Uint8Array(readFileSync(path)));
  }
  return files;
}

/** Throws (to be retried) when the module cannot be fetched or a store does not answer: not the job creator's doing. */
export async function rerunJob(
  deps: RerunDeps,
  job: { key: string; module: string; inputs: string },
): Promise<{ manifest: ModuleManifest; reference: Reference }> {
  const { store, executor, logger } = deps;
  const loaded = await loadJob(store, { module: job.module, inputs: job.inputs }, executor);
  if (!loaded.ok) {
    logger.info("the job cannot run: the job creator's inputs are at fault", { dispute: job.key, failure: loaded.failure });
    return { manifest: loaded.manifest, reference: { kind: "refused", failure: loaded.failure } };
  }
  const { manifest, artifact, inputs, files } = loaded;
  const dirs = await prepareJobDirs(join(deps.workDir, job.key), manifest, inputs, async (cid) => files.get(cid) ?? store.getBytes(cid));
  try {
    const timeoutMs = manifest.resources.timeoutSeconds * 1000 * deps.timeoutFactor;
    logger.info("re-run starting", { dispute: job.key, module: `${manifest.name}@${manifest.version}`, timeoutMs });
    const exit = await executor.wait(await executor.start(jobTaskSpec(manifest, artifact, dirs, timeoutMs)));
    logger.info("re-run finished", { dispute: job.key, exitCode: exit.exitCode, durationMs: exit.durationMs, limit: exit.limit });
    const outcome = { exitCode: exit.exitCode, ...(exit.limit && { limit: exit.limit }), files: readOutputs(dirs.outputsDir) };
    return { manifest, reference: { kind: "ran", outcome } };
  } finally {
    await removeJobDirs(dirs);
  }
}
