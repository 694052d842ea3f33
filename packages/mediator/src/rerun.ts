// Re-run a disputed job exactly as a provider runs it: the module and inputs fetched by CID (the
// store client re-hashes everything), /inputs laid out by the same code (@lily/executor), the
// same sandbox and memory cap. Only the wall clock is more generous (`timeoutFactor`).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { ModuleManifest, parse, validateInputs } from "@lily/protocol";
import { jobTaskSpec, prepareJobDirs, removeJobDirs, type Executor } from "@lily/executor";
import type { StoreClient } from "@lily/store";
import type { Logger } from "@lily/node-kit";
import type { RunOutcome } from "./judge.ts";

export interface RerunDeps {
  store: StoreClient;
  executor: Executor;
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

export async function rerunJob(
  deps: RerunDeps,
  job: { key: string; module: string; inputs: string },
): Promise<{ manifest: ModuleManifest; outcome: RunOutcome }> {
  const { store, executor } = deps;
  const manifest = parse(ModuleManifest, await store.getRecord(job.module), "module manifest");
  const wasm = await store.getBytes(manifest.wasm);
  const inputs = validateInputs(manifest, await store.getRecord<Record<string, unknown>>(job.inputs));
  const dirs = await prepareJobDirs(join(deps.workDir, job.key), manifest, inputs, (cid) => store.getBytes(cid));
  try {
    const timeoutMs = manifest.resources.timeoutSeconds * 1000 * deps.timeoutFactor;
    deps.logger.info("re-run starting", { dispute: job.key, module: `${manifest.name}@${manifest.version}`, timeoutMs });
    const exit = await executor.wait(await executor.start(jobTaskSpec(manifest, wasm, dirs, timeoutMs)));
    deps.logger.info("re-run finished", { dispute: job.key, exitCode: exit.exitCode, durationMs: exit.durationMs, limit: exit.limit });
    return { manifest, outcome: { exitCode: exit.exitCode, ...(exit.limit && { limit: exit.limit }), files: readOutputs(dirs.outputsDir) } };
  } finally {
    removeJobDirs(dirs);
  }
}
