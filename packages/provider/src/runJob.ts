// Run one deal's job: fetch the module and inputs by CID (verified), lay out /inputs, run the
// module in the sandbox, store /outputs in the content-addressed store and return the CID of
// the result manifest — the thing the provider commits on chain and signs.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ModuleManifest, parse, validateInputs, INPUTS_FILE, type ResultManifest } from "@lily/protocol";
import type { StoreClient } from "@lily/store";
import type { Logger } from "@lily/node-kit";
import type { Executor } from "./executor/executor.ts";
import type { LocalDeal } from "./db.ts";

export interface JobOutcome {
  resultCid: string;
  exitCode: number;
  limit?: string;
  durationMs: number;
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
  const dir = join(deps.workDir, local.id);
  rmSync(dir, { recursive: true, force: true });
  const inputsDir = join(dir, "inputs");
  const outputsDir = join(dir, "outputs");
  mkdirSync(inputsDir, { recursive: true });
  mkdirSync(outputsDir, { recursive: true });
  writeFileSync(join(inputsDir, INPUTS_FILE), JSON.stringify(inputs));
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(inputs)) {
    if (manifest.inputs[name]!.type === "file") writeFileSync(join(inputsDir, name), await store.getBytes(String(value)));
    else env[`INPUT_${name.toUpperCase()}`] = String(value);
  }

  const timeoutMs = Math.max(1000, Math.min(manifest.resources.timeoutSeconds * 1000, timeLeftMs));
  deps.logger.info("job starting", { deal: local.id, module: `${manifest.name}@${manifest.version}`, timeoutMs });
  const handle = await executor.start({ wasm, inputsDir, outputsDir, env, args: [manifest.name], memoryMb: manifest.resources.memoryMb, timeoutMs });
  const exit = await executor.wait(handle);
  deps.logger.info("job finished", { deal: local.id, exitCode: exit.exitCode, durationMs: exit.durationMs, limit: exit.limit });

  const files = await store.putDirectory(outputsDir);
  const result: ResultManifest = { deal: local.id, module: local.module, inputs: local.inputs, exitCode: exit.exitCode, files };
  const resultCid = await store.putRecord(result);
  rmSync(dir, { recursive: true, force: true });
  return { resultCid, exitCode: exit.exitCode, limit: exit.limit, durationMs: exit.durationMs };
}
