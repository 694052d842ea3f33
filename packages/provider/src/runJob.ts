// Run one deal's job: load the module and inputs (each block verified against its CID), lay out
// /inputs, run the module in the sandbox, store /outputs in the content-addressed store and return
// the CID of the result manifest: the thing the provider commits on chain and signs. A job that
// cannot run for its job creator's reason (inputs no store holds, inputs the schema refuses) ends
// in a committed failure instead, byte for byte what a mediator re-running it makes, so the
// provider is paid for its diligence instead of sitting until the deadline and being slashed.
import { join } from "node:path";
import type { ResultManifest } from "@lily/protocol";
import type { StoreClient } from "@lily/store";
import { JOB_REFUSED_EXIT_CODE, failureOutputs, jobTaskSpec, loadJob, prepareJobDirs, removeJobDirs, type JobFailure } from "@lily/executor";
import type { JobContext, JobOutcome, JobToRun } from "./strategy.ts";

export async function runJob(job: JobToRun, ctx: JobContext): Promise<JobOutcome> {
  const loaded = await loadJob(ctx.source, job, ctx.executor);
  if (!loaded.ok) {
    ctx.logger.warn("job cannot run: committing a failure", { deal: job.dealId, code: loaded.failure.code, field: loaded.failure.field });
    return { resultCid: await storeFailureResult(ctx.store, job, loaded.failure), exitCode: JOB_REFUSED_EXIT_CODE, durationMs: 0 };
  }
  const { manifest, artifact, inputs, files } = loaded;
  // A re-run after a crash starts from a clean directory.
  const dirs = await prepareJobDirs(join(ctx.workDir, job.dealId), manifest, inputs, async (cid) => files.get(cid) ?? ctx.source.getBytes(cid));
  const timeoutMs = Math.max(1000, Math.min(manifest.resources.timeoutSeconds * 1000, job.timeLeftMs));
  ctx.logger.info("job starting", { deal: job.dealId, module: `${manifest.name}@${manifest.version}`, timeoutMs });
  const exit = await ctx.executor.wait(await ctx.executor.start(jobTaskSpec(manifest, artifact, dirs, timeoutMs)));
  ctx.logger.info("job finished", { deal: job.dealId, exitCode: exit.exitCode, durationMs: exit.durationMs, limit: exit.limit });

  // The outputs and their manifest, in one request when small (StoreClient.putResult).
  const resultCid = await ctx.store.putResult(dirs.outputsDir, { module: job.module, inputs: job.inputs, exitCode: exit.exitCode });
  // Off the path to the commit: the result is stored, the scratch directory is no longer needed.
  removeJobDirs(dirs).catch((e) => ctx.logger.warn("job directory not removed", { deal: job.dealId, dir: dirs.dir, err: e }));
  return { resultCid, exitCode: exit.exitCode, limit: exit.limit, durationMs: exit.durationMs };
}

/** The committed failure of a job that could not run: exit code JOB_REFUSED_EXIT_CODE and the failure's one file. */
export async function storeFailureResult(store: StoreClient, job: Pick<JobToRun, "module" | "inputs">, failure: JobFailure): Promise<string> {
  const files: Record<string, string> = {};
  for (const [name, bytes] of failureOutputs(failure)) files[name] = await store.putBytes(bytes);
  const result: ResultManifest = { module: job.module, inputs: job.inputs, exitCode: JOB_REFUSED_EXIT_CODE, files };
  return store.putRecord(result);
}
