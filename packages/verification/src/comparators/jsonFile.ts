// Reading one result file as JSON on both sides, for the comparators that judge numbers.
import type { Comparison, ResultFiles } from "./comparator.ts";

export type JsonPair = { kind: "values"; reference: unknown; candidate: unknown } | { kind: "decided"; comparison: Comparison };

function parseJson(bytes: Uint8Array): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes)) };
  } catch {
    return { ok: false };
  }
}

/**
 * Both sides' values of file `name`, or the verdict when there is nothing to walk: a file absent
 * from both sides agrees; absent from one side differs; not JSON on both sides falls back to
 * comparing bytes; not JSON on one side differs.
 */
export function jsonPair(name: string, reference: ResultFiles, candidate: ResultFiles): JsonPair {
  const ref = reference.get(name);
  const cand = candidate.get(name);
  if (!ref && !cand) return { kind: "decided", comparison: { equal: true, detail: `${name}: absent from both` } };
  if (!cand) return { kind: "decided", comparison: { equal: false, detail: `${name}: missing from the provider's result` } };
  if (!ref) return { kind: "decided", comparison: { equal: false, detail: `${name}: in the provider's result but not produced by the re-run` } };
  const r = parseJson(ref);
  const c = parseJson(cand);
  if (!r.ok && !c.ok) {
    const same = ref.length === cand.length && ref.every((b, i) => b === cand[i]);
    return { kind: "decided", comparison: { equal: same, detail: `${name}: not JSON on either side; bytes ${same ? "identical" : "differ"}` } };
  }
  if (!c.ok) return { kind: "decided", comparison: { equal: false, detail: `${name}: the provider's file is not JSON` } };
  if (!r.ok) return { kind: "decided", comparison: { equal: false, detail: `${name}: the provider's file is JSON but the re-run's is not` } };
  return { kind: "values", reference: r.value, candidate: c.value };
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function typeOf(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "array" : typeof v;
}
