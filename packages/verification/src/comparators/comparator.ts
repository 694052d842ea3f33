// What a comparator is: a rule for when a re-run (a mediator's, or another replica's) counts as
// the same result as the one a provider committed. Modules declare theirs in the manifest, since
// AI outputs on GPUs are often not bit-for-bit reproducible.
import type { ComparatorName, ModuleManifest } from "@lily/protocol";

/** A result's files: name -> bytes (stdout and stderr included, as the sandbox saved them). */
export type ResultFiles = ReadonlyMap<string, Uint8Array>;

/** A module's comparator declaration, from its manifest. */
export type ComparatorConfig = ModuleManifest["comparator"];

export interface Comparison {
  equal: boolean;
  /** Why: the first difference found, or what was checked. Recorded with a ruling. */
  detail: string;
}

export interface ComparatorStrategy<C extends ComparatorConfig = ComparatorConfig> {
  readonly name: ComparatorName;
  /** The id the contracts record with a ruling (`Comparator` in @lily/protocol). */
  readonly id: number;
  /** Judge `candidate` (the provider's result) against `reference` (the re-run). */
  compare(reference: ResultFiles, candidate: ResultFiles, config: C): Comparison;
}

/**
 * Files no comparator looks at. stderr carries diagnostics (warnings, timings, the runtime's own
 * messages) that are not part of what the job creator pays for, and that an honest re-run on
 * another machine may word differently.
 */
export const IGNORED_FILES: ReadonlySet<string> = new Set(["stderr"]);
