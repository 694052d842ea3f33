// What a job needs before it can run, fetched by CID and checked: the module manifest and its
// binary, the inputs record validated against the module's schema, and every file input. Or why
// the job cannot run for a reason that is its job creator's: an input no store holds, or inputs
// the module's schema refuses. The provider calls it before it signs (so it never signs a job it
// cannot run) and before it runs; the mediator calls it before it re-runs. A job that cannot run
// for the job creator's reason ends in a committed failure, the same bytes on both sides, so the
// provider is paid for its diligence, never slashed for the job creator's mistake.
import { LilyError, ModuleManifest, decodeRecord, isLilyError, parse, validateInputs, type DockerModuleExecutor, type Inputs } from "@lily/protocol";
import { dockerMissing } from "./executorSet.ts";

/** Where a job's content comes from: a verifying store client (bytes re-hashed against their CID; NOT_FOUND when absent). */
export interface JobSource {
  getBytes(cid: string): Promise<Uint8Array>;
  getRecord<T = unknown>(cid: string): Promise<T>;
  /**
   * Fetch a chunked file (a container image's `docker save` archive) to `destPath`, every chunk
   * verified, nothing left under that name on failure (`StoreClient.getFile`). Only container
   * modules need it; a source without it cannot load an image from its archive.
   */
  getFile?(cid: string, destPath: string): Promise<{ size: number }>;
}

/** Why a job cannot run, when the job creator is to blame. `field` names the input at fault. */
export interface JobFailure {
  code: "INPUTS_UNAVAILABLE" | "INPUTS_INVALID";
  field: string;
  message: string;
}

/** What runs: the WASI binary (verified against its CID), or the container image (present on the engine, digest checked). */
export type JobArtifact = { kind: "wasm"; wasm: Uint8Array } | { kind: "docker"; image: string; executor: DockerModuleExecutor };

/** Makes a module's image present on the Docker engine, fetched from the store by CID and checked against its digest. */
export interface ImageLoader {
  ensure(executor: DockerModuleExecutor, source: JobSource): Promise<void>;
}

export interface LoadJobOptions {
  /** Absent where no Docker engine is reachable: a container module then throws EXECUTOR_UNAVAILABLE. */
  images?: ImageLoader;
  /** Why `images` is absent, for that error. */
  imagesUnavailable?: string;
}

export type LoadedJob =
  | { ok: true; manifest: ModuleManifest; artifact: JobArtifact; inputs: Inputs; files: Map<string, Uint8Array> }
  | { ok: false; manifest: ModuleManifest; failure: JobFailure };

/** The exit code a committed failure carries: the job never ran (125: "could not run", as Docker reports it). */
export const JOB_REFUSED_EXIT_CODE = 125;
/** The one output file of a committed failure: the failure as canonical JSON. */
export const JOB_FAILURE_FILE = "lily-failure.json";

/**
 * Fetch and check everything a job needs. Throws (for the caller to retry) when the module itself
 * cannot be fetched or a store does not answer: those are not the job creator's doing. Throws
 * EXECUTOR_UNAVAILABLE for a container module where no Docker engine is reachable.
 */
export async function loadJob(source: JobSource, job: { module: string; inputs: string }, opts: LoadJobOptions = {}): Promise<LoadedJob> {
  const manifest = parse(ModuleManifest, await source.getRecord(job.module), "module manifest");
  const artifact = await loadArtifact(manifest, source, opts);
  let bytes: Uint8Array;
  try {
    bytes = await source.getBytes(job.inputs);
  } catch (e) {
    const failure = blame(e, "inputs", `the inputs record ${job.inputs}`);
    if (failure) return { ok: false, manifest, failure };
    throw e;
  }
  let inputs: Inputs;
  try {
    let raw: unknown;
    try {
      raw = decodeRecord(bytes);
    } catch {
      throw new LilyError({ code: "INVALID_INPUT", field: "inputs", message: `inputs: the inputs record ${job.inputs} is not a dag-json record` });
    }
    if (typeof raw !== "object" || raw === null || Array.isArray(raw))
      throw new LilyError({ code: "INVALID_INPUT", field: "inputs", message: "inputs: not a record of named inputs" });
    inputs = validateInputs(manifest, raw as Record<string, unknown>);
  } catch (e) {
    if (!isLilyError(e, "INVALID_INPUT")) throw e;
    return { ok: false, manifest, failure: { code: "INPUTS_INVALID", field: e.field ?? "inputs", message: e.message } };
  }
  const files = new Map<string, Uint8Array>();
  for (const [name, value] of Object.entries(inputs)) {
    if (manifest.inputs[name]?.type !== "file") continue;
    const cid = String(value);
    try {
      files.set(cid, await source.getBytes(cid));
    } catch (e) {
      const failure = blame(e, `inputs.${name}`, `file input ${name} (${cid})`);
      if (failure) return { ok: false, manifest, failure };
      throw e;
    }
  }
  return { ok: true, manifest, artifact, inputs, files };
}

async function loadArtifact(manifest: ModuleManifest, source: JobSource, opts: LoadJobOptions): Promise<JobArtifact> {
  const executor = manifest.executor;
  if (executor.kind === "wasm") return { kind: "wasm", wasm: await source.getBytes(executor.wasm) };
  if (!opts.images) throw dockerMissing(opts.imagesUnavailable);
  await opts.images.ensure(executor, source);
  return { kind: "docker", image: executor.image, executor };
}

/** The output files of a committed failure: one JSON file, byte for byte the same wherever it is made. */
export function failureOutputs(failure: JobFailure): Map<string, Uint8Array> {
  const json = JSON.stringify({ code: failure.code, field: failure.field, message: failure.message });
  return new Map([[JOB_FAILURE_FILE, new TextEncoder().encode(json)]]);
}

/** The failure a fetch error is, when it is the job creator's: content no store holds. */
function blame(e: unknown, field: string, what: string): JobFailure | undefined {
  if (isLilyError(e, "NOT_FOUND")) return { code: "INPUTS_UNAVAILABLE", field, message: `${field}: ${what} is not in any store this party can reach` };
  return undefined;
}
