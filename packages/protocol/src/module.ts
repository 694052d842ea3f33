// Module manifests (Ampli): what a module is, addressed by the CID of this manifest record.
// A module runs in one of the executors (`executor.kind`): a WASI binary in the WASM sandbox, or
// a container image on a Docker engine. The execution contract between a provider and a module is
// the same for both, fixed here so modules and executors agree without knowing each other:
//   - the job's inputs record is at /inputs/inputs.json; each `file` input at /inputs/<name>
//   - each scalar input is also in the environment as INPUT_<NAME> (upper-cased)
//   - the module writes result files to /outputs; stdout and stderr are saved as
//     /outputs/stdout and /outputs/stderr
import * as z from "zod";
import { cid, address } from "./schemas.ts";

export const INPUTS_DIR = "/inputs";
export const OUTPUTS_DIR = "/outputs";
export const INPUTS_FILE = "inputs.json";

// One input, in the JSON Schema vocabulary (type, description, default, enum, bounds); `file` is
// Lily's own type: the value is the CID of the file's bytes, shown to the module at /inputs/<name>.
const inputField = z.object({
  type: z.enum(["string", "integer", "number", "boolean", "file"]),
  description: z.string().optional(),
  default: z.union([z.string(), z.number(), z.boolean()]).optional(),
  enum: z
    .array(z.union([z.string(), z.number()]))
    .min(1)
    .max(256)
    .optional(),
  maxLength: z.number().int().positive().optional(),
  minimum: z.number().optional(),
  maximum: z.number().optional(),
});

/** A container image's content digest (its image ID, the sha256 of its config). A tag is never enough. */
export const imageDigest = z.string().regex(/^sha256:[0-9a-f]{64}$/, "an image digest, sha256:<64 hex digits> (a tag alone is refused)");

/** A WASI (preview 1) binary, run in the WASM sandbox. */
const wasmExecutor = z.object({ kind: z.literal("wasm"), wasm: cid });

/**
 * A container image, run on a Docker engine. The image travels by content: `archive` is the CID of
 * its `docker save` archive in the store (loaded and checked against `image` before it runs);
 * `reference` is the other way, a public registry reference pinned by digest (repo@sha256:...).
 */
const dockerExecutor = z
  .object({
    kind: z.literal("docker"),
    image: imageDigest,
    archive: cid.optional(),
    reference: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._/:-]*@sha256:[0-9a-f]{64}$/, "a registry reference pinned by digest: repo@sha256:<64 hex>")
      .optional(),
    /** The program and its arguments. The executor picks the (non-root) user, never the image. */
    command: z.array(z.string().max(1000)).min(1).max(64),
    /** The module needs the network; a provider runs it only if it allows networked modules. */
    network: z.boolean().default(false),
  })
  .refine((d) => d.archive !== undefined || d.reference !== undefined, { message: "give the image's archive CID or a registry reference", path: ["archive"] });

export const ModuleExecutor = z.discriminatedUnion("kind", [wasmExecutor, dockerExecutor]);
export type ModuleExecutor = z.infer<typeof ModuleExecutor>;
export type ExecutorKind = ModuleExecutor["kind"];

/** An output file the module promises to write to /outputs. */
const outputField = z.object({ description: z.string().optional(), mediaType: z.string().max(100).optional() });

export const ModuleManifest = z.object({
  name: z.string().regex(/^[a-z][a-z0-9-]{0,63}$/, "lower-case letters, digits and dashes"),
  // One spelling per version (no leading zeros), as the registry requires: 1.01.0 is not 1.1.0's twin.
  version: z.string().regex(/^(0|[1-9]\d{0,9})\.(0|[1-9]\d{0,9})\.(0|[1-9]\d{0,9})$/, "must be semver x.y.z, each part a number without leading zeros"),
  description: z.string(),
  executor: ModuleExecutor,
  inputs: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/), inputField),
  required: z.array(z.string()).default([]),
  /** Files the module writes to /outputs, by name (stdout and stderr are always saved). */
  outputs: z.record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/), outputField).default({}),
  resources: z.object({
    cpu: z.number().int().positive(),
    memoryMb: z.number().int().positive(),
    gpu: z.number().int().nonnegative().default(0),
    vramMb: z.number().int().nonnegative().default(0),
    timeoutSeconds: z.number().int().positive(),
    /** The most the module may write to /outputs, in MiB; a run that writes more is stopped. */
    outputMb: z.number().int().positive().max(4096).default(64),
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
export type DockerModuleExecutor = z.infer<typeof dockerExecutor>;

/** The CIDs a module's artifact is stored under: what a store must hold for the module to run. */
export function artifactCids(m: Pick<ModuleManifest, "executor"> | { kind: "model"; weights: string }): string[] {
  if ("kind" in m) return [m.weights];
  if (m.executor.kind === "wasm") return [m.executor.wasm];
  return m.executor.archive ? [m.executor.archive] : [];
}
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
