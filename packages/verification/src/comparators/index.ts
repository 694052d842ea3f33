// The comparator registry: the rule a module's manifest names, bound to its parameters.
import type { ComparatorName } from "@lily/protocol";
import type { ComparatorConfig, ComparatorStrategy, Comparison, ResultFiles } from "./comparator.ts";
import { exact } from "./exact.ts";
import { tolerance } from "./tolerance.ts";
import { similarity } from "./similarity.ts";

// biome-ignore lint/suspicious/noExplicitAny: each comparator takes its own kind of spec; comparatorFor picks by kind
export const comparators: Readonly<Record<ComparatorName, ComparatorStrategy<any>>> = { exact, tolerance, similarity };

/** A module's comparator, ready to judge: `compare(reference, candidate)`. */
export interface ResultComparator {
  readonly name: ComparatorName;
  /** The id the contracts record with a ruling. */
  readonly id: number;
  readonly config: ComparatorConfig;
  compare(reference: ResultFiles, candidate: ResultFiles): Comparison;
}

/** The comparator a module's manifest declares (`manifest.comparator`, exact by default). */
export function comparatorFor(config: ComparatorConfig = { kind: "exact" }): ResultComparator {
  const strategy = comparators[config.kind];
  return {
    name: strategy.name,
    id: strategy.id,
    config,
    compare: (reference, candidate) => strategy.compare(reference, candidate, config),
  };
}

export { exact, tolerance, similarity };
export { compareFilesExactly } from "./exact.ts";
export { cosineSimilarity, flattenNumbers } from "./similarity.ts";
export { IGNORED_FILES } from "./comparator.ts";
export type { ComparatorConfig, ComparatorStrategy, Comparison, ResultFiles } from "./comparator.ts";
