// Run one deal's job: fetch the module and inputs by CID (verified), lay out /inputs, run the
// module in the sandbox, store /outputs in the content-addressed store and return the CID of
// the result manifest — the thing the provider commits on chain and signs.
import { join } from "node:path";
import { ModuleManifest, parse, validateInputs, type ResultManifest } from "@lily/protocol";
import type { StoreClient } from "@lily/store";
import type { Logger } from "@lily/node-kit";
import { jobTaskSpec, prepareJobDirs, removeJobDirs, type Executor } from "@lily/executor";
import type { LocalDeal } from "./db.ts";
import { FABRICATED_STDOUT } from "./adversary.ts";

export interface JobOutcome {
  resultCid: string;
  exitCode: number;
  limit?: string;
  durationMs: number;
}

/** What a cheating provider commits instead of running the module (see adversary.ts). */
export async function fabricateResult(store: StoreClient, local: LocalDeal): Promise<JobOutcome> {
  const stdout = await store.putBytes(new TextEncoder().encode(FABRICATED_STDOUT));
  const result: ResultManifest = { module: local.module, inputs: local.inputs, exitCode: 0, files: { stdout } };
  return { resultCid: await store.putRecord(result), exitCode: 0, durationMs: 0 };
}

export async function runJob(
  deps: { store: StoreClient; executor: Executor; logger: Logger; workDir: string },
  local: LocalDeal,
  timeLeftMs: number,
): Promise<JobOutcome> {
  const { store, executor } = deps;
  const manifest = parse(ModuleManifest, await store.getRecord(local.module), "module manifest");
  const wasm = await store.getBytes(manifest.wasm);
  const inputs = validateInputs(manifest, await store.getRecord<Record<string, unknown>>(local.inputs));

  // A re-run after a crash starts from a clean directory.
  const dirs = await prepareJobDirs(join(deps.workDir, local.id), manifest, inputs, (cid) => store.getBytes(cid));

  const timeoutMs = Math.max(1000, Math.min(manifest.resources.timeoutSeconds * 1000, timeLeftMs));
  deps.logger.info("job starting", { deal: local.id, module: `${manifest.name}@${manifest.version}`, timeoutMs });
  const handle = await executor.start(jobTaskSpec(manifest, wasm, dirs, timeoutMs));
  const exit = await executor.wait(handle);
  deps.logger.info("job finished", { deal: local.id, exitCode: exit.exitCode, durationMs: exit.durationMs, limit: exit.limit });

  const files = await store.putDirectory(dirs.outputsDir);
  const result: ResultManifest = { module: local.module, inputs: local.inputs, exitCode: exit.exitCode, files };
  const resultCid = await store.putRecord(result);
  removeJobDirs(dirs);
  return { resultCid, exitCode: exit.exitCode, limit: exit.limit, durationMs: exit.durationMs };
}
