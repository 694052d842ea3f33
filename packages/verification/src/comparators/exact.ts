// exact: the same set of result files with identical bytes, i.e. equal file CIDs. For
// deterministic modules (every WASM module built here).
import { Comparator } from "@lily/protocol";
import { IGNORED_FILES, type ComparatorStrategy, type Comparison, type ResultFiles } from "./comparator.ts";

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Compare every file present on either side byte for byte, except the ignored ones and those in
 * `except` (which another rule judges). Both sides must have the same files.
 */
export function compareFilesExactly(reference: ResultFiles, candidate: ResultFiles, except: ReadonlySet<string> = new Set()): Comparison {
  const names = [...new Set([...reference.keys(), ...candidate.keys()])].filter((n) => !IGNORED_FILES.has(n) && !except.has(n)).sort();
  for (const name of names) {
    const ref = reference.get(name);
    const cand = candidate.get(name);
    if (!cand) return { equal: false, detail: `${name}: missing from the provider's result` };
    if (!ref) return { equal: false, detail: `${name}: in the provider's result but not produced by the re-run` };
    if (!sameBytes(ref, cand)) return { equal: false, detail: `${name}: bytes differ (${ref.length} vs ${cand.length} bytes)` };
  }
  return { equal: true, detail: `${names.length} file(s) identical` };
}

export const exact: ComparatorStrategy<{ kind: "exact" }> = {
  name: "exact",
  id: Comparator.exact,
  compare: (reference, candidate) => compareFilesExactly(reference, candidate),
};
