// tolerance(epsilon, files): in each named JSON file, both structures must have the same shape,
// every pair of numbers may differ by at most epsilon (absolute), and everything else must be
// equal. Files not named are compared exactly. For numeric outputs of non-deterministic runs.
import { Comparator } from "@lily/protocol";
import type { ComparatorStrategy, Comparison } from "./comparator.ts";
import { compareFilesExactly } from "./exact.ts";
import { isPlainObject, jsonPair, typeOf } from "./jsonFile.ts";

type Config = { kind: "tolerance"; epsilon: number; files: string[] };

/** The first place `a` and `b` differ beyond epsilon, as "path: reason", or undefined. */
function firstDifference(a: unknown, b: unknown, epsilon: number, path: string): string | undefined {
  if (typeof a === "number" && typeof b === "number") {
    if (Object.is(a, b)) return undefined;
    const diff = Math.abs(a - b);
    // NaN (from non-finite numbers) never satisfies <=, so it differs.
    if (!(diff <= epsilon)) return `${path}: |${a} - ${b}| = ${diff} exceeds epsilon ${epsilon}`;
    return undefined;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return `${path}: ${a.length} items vs ${b.length}`;
    for (let i = 0; i < a.length; i++) {
      const d = firstDifference(a[i], b[i], epsilon, `${path}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a).sort();
    const other = Object.keys(b).sort();
    if (keys.join("\u0000") !== other.join("\u0000")) return `${path}: keys differ (${keys.join(", ")} vs ${other.join(", ")})`;
    for (const k of keys) {
      const d = firstDifference(a[k], b[k], epsilon, `${path}.${k}`);
      if (d) return d;
    }
    return undefined;
  }
  if (typeOf(a) !== typeOf(b)) return `${path}: ${typeOf(a)} vs ${typeOf(b)}`;
  return a === b ? undefined : `${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
}

export const tolerance: ComparatorStrategy<Config> = {
  name: "tolerance",
  id: Comparator.tolerance,
  compare(reference, candidate, config): Comparison {
    const judged = new Set(config.files);
    const others = compareFilesExactly(reference, candidate, judged);
    if (!others.equal) return others;
    for (const name of config.files) {
      const pair = jsonPair(name, reference, candidate);
      if (pair.kind === "decided") {
        if (!pair.comparison.equal) return pair.comparison;
        continue;
      }
      const d = firstDifference(pair.reference, pair.candidate, config.epsilon, "$");
      if (d) return { equal: false, detail: `${name}: ${d}` };
    }
    return { equal: true, detail: `${config.files.join(", ")} within epsilon ${config.epsilon}; ${others.detail}` };
  },
};
