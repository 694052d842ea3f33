// similarity(threshold, files): the numbers in each named JSON file, flattened in a fixed order
// (array order, object keys sorted), form a vector; the provider's vector must have the same
// length and a cosine similarity with the re-run's of at least the threshold. Files not named are
// compared exactly. For embeddings and other outputs judged by direction, not digits.
import { Comparator } from "@lily/protocol";
import type { ComparatorStrategy, Comparison } from "./comparator.ts";
import { compareFilesExactly } from "./exact.ts";
import { isPlainObject, jsonPair } from "./jsonFile.ts";

type Config = { kind: "similarity"; threshold: number; files: string[] };

/** Every number in `value`, depth first, arrays in order and object keys sorted. */
export function flattenNumbers(value: unknown, out: number[] = []): number[] {
  if (typeof value === "number") out.push(value);
  else if (Array.isArray(value)) for (const v of value) flattenNumbers(v, out);
  else if (isPlainObject(value)) for (const k of Object.keys(value).sort()) flattenNumbers(value[k], out);
  return out;
}

/** Cosine similarity in [-1, 1]; 1 for two zero vectors, 0 when only one is zero; NaN if not finite. */
export function cosineSimilarity(a: readonly number[], b: readonly number[]): number {
  if (a.every((x, i) => x === b[i])) return a.every(Number.isFinite) ? 1 : Number.NaN;
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  if (!Number.isFinite(dot) || !Number.isFinite(na) || !Number.isFinite(nb)) return Number.NaN;
  if (na === 0 || nb === 0) return na === nb ? 1 : 0;
  return Math.max(-1, Math.min(1, dot / (Math.sqrt(na) * Math.sqrt(nb))));
}

export const similarity: ComparatorStrategy<Config> = {
  name: "similarity",
  id: Comparator.similarity,
  compare(reference, candidate, config): Comparison {
    const judged = new Set(config.files);
    const others = compareFilesExactly(reference, candidate, judged);
    if (!others.equal) return others;
    const scores: string[] = [];
    for (const name of config.files) {
      const pair = jsonPair(name, reference, candidate);
      if (pair.kind === "decided") {
        if (!pair.comparison.equal) return pair.comparison;
        continue;
      }
      const a = flattenNumbers(pair.reference);
      const b = flattenNumbers(pair.candidate);
      if (a.length !== b.length) return { equal: false, detail: `${name}: vectors of ${a.length} and ${b.length} numbers` };
      if (a.length === 0) {
        // No numbers to judge by direction: the file must then be the same record.
        const same = JSON.stringify(pair.reference) === JSON.stringify(pair.candidate);
        if (!same) return { equal: false, detail: `${name}: holds no numbers and differs` };
        continue;
      }
      const s = cosineSimilarity(a, b);
      // NaN (non-finite numbers) never satisfies >=, so it differs.
      if (!(s >= config.threshold)) return { equal: false, detail: `${name}: cosine similarity ${s} below threshold ${config.threshold}` };
      scores.push(`${name} ${s.toFixed(6)}`);
    }
    return { equal: true, detail: `cosine similarity at or above ${config.threshold} (${scores.join(", ") || "no vectors"}); ${others.detail}` };
  },
};
