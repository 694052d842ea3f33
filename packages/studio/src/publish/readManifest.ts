// A module's built manifest as the Publish page reads it, before anything is sent: the bytes of
// build/manifest.json (what `lily module build` wrote, whose hash is the module's id), checked for
// what the page needs to say what will be published. The gateway checks the whole schema again.
import { cidOf, DAG_JSON_CODEC, parseCid, RAW_CODEC } from "./cids.ts";

/** A problem with a picked file, naming the field at fault. */
export class PickProblem extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.field = field;
  }
}

export interface PickedManifest {
  name: string;
  version: string;
  description: string;
  license: string;
  royaltyBps: number;
  creator?: string;
  kind: "wasm" | "docker";
  /** The CID the artifact must hash to (executor.wasm or executor.archive); absent for an image pulled by reference. */
  artifactCid?: string;
  /** The manifest's own CID: dag-json over exactly these bytes. */
  cid: string;
  bytes: Uint8Array;
}

const NAME = /^[a-z][a-z0-9-]{0,63}$/;
const VERSION = /^(0|[1-9]\d{0,9})\.(0|[1-9]\d{0,9})\.(0|[1-9]\d{0,9})$/;

export function readManifest(bytes: Uint8Array): PickedManifest {
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw new PickProblem("manifest", "This file is not JSON: pick the manifest.json in your module's build folder.");
  }
  if (!m || typeof m !== "object" || Array.isArray(m)) throw new PickProblem("manifest", "The manifest must be a JSON object.");
  const str = (k: string) => (typeof m[k] === "string" ? (m[k] as string) : "");
  if (!NAME.test(str("name")))
    throw new PickProblem("manifest.name", "manifest.name: lower-case letters, digits and dashes, starting with a letter (at most 64).");
  if (!VERSION.test(str("version"))) throw new PickProblem("manifest.version", "manifest.version: semver x.y.z, each part without leading zeros.");
  const executor = (m.executor ?? {}) as Record<string, unknown>;
  const kind = executor.kind;
  if (kind !== "wasm" && kind !== "docker") throw new PickProblem("manifest.executor.kind", 'manifest.executor.kind: must be "wasm" or "docker".');
  const royaltyBps = m.royaltyBps === undefined ? 0 : m.royaltyBps;
  if (typeof royaltyBps !== "number" || !Number.isInteger(royaltyBps) || royaltyBps < 0 || royaltyBps > 10_000)
    throw new PickProblem("manifest.royaltyBps", "manifest.royaltyBps: a whole number of basis points from 0 to 10000.");
  const artifactCid = kind === "wasm" ? executor.wasm : executor.archive;
  if (kind === "wasm" && typeof artifactCid !== "string")
    // The creator's own manifest.json names no binary yet: `lily module build` fills it in.
    throw new PickProblem(
      "manifest.executor.wasm",
      "manifest.executor.wasm is missing: this is the module's source manifest. Run `lily module build` and pick build/manifest.json.",
    );
  if (typeof artifactCid === "string" && !parseCid(artifactCid, kind === "wasm" ? RAW_CODEC : DAG_JSON_CODEC))
    throw new PickProblem(`manifest.executor.${kind === "wasm" ? "wasm" : "archive"}`, `The artifact CID ${artifactCid} is not a CIDv1 sha-256 content id.`);
  return {
    name: str("name"),
    version: str("version"),
    description: str("description"),
    license: str("license"),
    royaltyBps,
    creator: typeof m.creator === "string" ? m.creator : undefined,
    kind,
    artifactCid: typeof artifactCid === "string" ? artifactCid : undefined,
    cid: cidOf(DAG_JSON_CODEC, bytes),
    bytes,
  };
}

/** The artifact's bytes must hash to the CID the manifest names; checked before anything is sent. */
export function checkArtifact(manifest: PickedManifest, artifact: Uint8Array): string {
  const got = cidOf(RAW_CODEC, artifact);
  if (got !== manifest.artifactCid)
    throw new PickProblem(
      "artifact",
      `CID mismatch: this file hashes to ${got}, but the manifest names ${manifest.artifactCid}. Pick the module.wasm built with this manifest.`,
    );
  return got;
}
