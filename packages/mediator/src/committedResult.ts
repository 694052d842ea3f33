// What a provider committed: the digest on chain names a result manifest (dag-json) in the
// content-addressed store, which names each output file by CID. Anything that does not lead to
// a well-formed result for this very deal's job counts against the provider; only an unreachable
// store is a reason to try again later.
import { type LilyError, ResultManifest, cidFromDigest, decodeRecord, isLilyError, parse, type Hex32 } from "@lily/protocol";
import type { StoreClient } from "@lily/store";
import type { Candidate } from "./judge.ts";

export interface Expected {
  dealId: string;
  module: string;
  inputs: string;
}

/** Errors that mean "the provider cannot show it", as opposed to "ask again later". */
function isMissingOrForged(e: unknown): boolean {
  return isLilyError(e) && (e.code === "NOT_FOUND" || e.code === "CID_MISMATCH" || e.code === "INVALID_INPUT");
}

export async function fetchCommittedResult(store: StoreClient, digest: Hex32 | undefined, expected: Expected): Promise<Candidate> {
  // REJECT: a provider that committed nothing has no result to defend
  if (!digest) return { kind: "invalid", reason: "no result committed" };
  const cid = cidFromDigest(digest);
  try {
    const bytes = await store.getBytes(cid);
    let record: unknown;
    try {
      record = decodeRecord(bytes);
    } catch {
      return { kind: "invalid", reason: `result ${cid} is not a dag-json record` };
    }
    const manifest = parse(ResultManifest, record, "result");
    // REJECT: the result must be about this deal's job (its module and inputs), not another job's
    if (manifest.module !== expected.module || manifest.inputs !== expected.inputs) {
      return { kind: "invalid", reason: `result ${cid} names module ${manifest.module} and inputs ${manifest.inputs}, not the job's` };
    }
    const files = new Map<string, Uint8Array>();
    for (const [name, fileCid] of Object.entries(manifest.files)) files.set(name, await store.getBytes(fileCid));
    return { kind: "result", exitCode: manifest.exitCode, files };
  } catch (e) {
    if (isMissingOrForged(e)) return { kind: "invalid", reason: `result ${cid} is not retrievable: ${(e as LilyError).message}` };
    throw e;
  }
}
