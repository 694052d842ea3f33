// Module manifests (Ampli): what a module is, addressed by the CID of this manifest record.
// The execution contract between a provider and a WASI module is fixed here so modules and
// executors agree without knowing each other:
//   - the job's inputs record is at /inputs/inputs.json; each `file` input at /inputs/<name>
//   - each scalar input is also in the environment as INPUT_<NAME> (upper-cased)
//   - the module writes result files to /outputs; stdout and stderr are saved as
//     /outputs/stdout and /outputs/stderr
import { z } from "zod";
import { cid, address } from "./schemas.ts";

export const INPUTS_DIR = "/inputs";
export const OUTPUTS_DIR = "/outputs";
export const INPUTS_FILE = "inputs.json";

const inputField = z.object({
  type: z.enum(["string", "integer", "number", "boolean", "file"]),
  description: z.string().optional(),
  default: z.union([z.string(), z.number(), z.boolean()]).optional(),
  maxLength: z.number().int().positive().optional(),
  minimum: z.number().optional(),
  maximum: z.number().optional(),
});

export const ModuleManifest = z.object({
  name: z.string().regex(/^[a-z][a-z0-9-]{0,63}$/, "lower-case letters, digits and dashes"),
  version: z.string().regex(/^\d+\.\d+\.\d+$/, "must be semver x.y.z"),
  description: z.string(),
  runtime: z.literal("wasi-preview1"),
  wasm: cid,
  inputs: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/), inputField),
  required: z.array(z.string()).default([]),
  resources: z.object({
    cpu: z.number().int().positive(),
    memoryMb: z.number().int().positive(),
    timeoutSeconds: z.number().int().positive(),
  }),
  determinism: z.enum(["deterministic", "nondeterministic"]),
  /** How a re-run (mediation) or a replica is judged equal to this result. Default: exact hash. */
  comparator: z
    .discriminatedUnion("kind", [
      z.object({ kind: z.literal("exact") }),
      // numbers in the named JSON output files may differ by at most epsilon (absolute)
      z.object({ kind: z.literal("tolerance"), epsilon: z.number().nonnegative(), files: z.array(z.string()).min(1) }),
      // cosine similarity of the numeric vectors in the named JSON files at or above threshold
      z.object({ kind: z.literal("similarity"), threshold: z.number().min(-1).max(1), files: z.array(z.string()).min(1) }),
    ])
    .default({ kind: "exact" }),
  license: z.string(),
  creator: address.optional(),
  royaltyBps: z.number().int().min(0).max(10_000).default(0),
});

export type ModuleManifest = z.infer<typeof ModuleManifest>;
export type InputField = z.infer<typeof inputField>;

/** A module's name@version, e.g. `cowsay@1.0.0`. */
export function moduleRef(m: { name: string; version: string }): string {
  return `${m.name}@${m.version}`;
}

/**
 * The result manifest a provider stores and commits: file name -> CID of the file (raw). It names
 * the job (module and inputs) but not the deal, so honest replicas of one job commit the same
 * digest and replicate(k) can compare them by hash on chain.
 */
export const ResultManifest = z.object({
  module: cid,
  inputs: cid,
  exitCode: z.number().int(),
  files: z.record(z.string(), cid),
});
export type ResultManifest = z.infer<typeof ResultManifest>;
