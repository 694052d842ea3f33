// Verification policies. The number is what the signed deal and the contracts carry; new
// policies get a new number here, a library in the contracts and a strategy off chain.

export const Policy = {
  trust: 0,
  optimistic: 1,
  replicate: 2,
  audit: 3,
} as const;

export type PolicyName = keyof typeof Policy;
export type PolicyId = (typeof Policy)[PolicyName];

export function policyName(id: number): PolicyName | undefined {
  return (Object.keys(Policy) as PolicyName[]).find((k) => Policy[k] === id);
}

/**
 * What `policyParam` means for each policy (one uint64 in the signed deal):
 *   trust       unused (0)
 *   optimistic  the challenge window, in seconds after the result is committed
 *   replicate   k, the number of distinct providers that run the job
 *   audit       p, the audit probability, in parts per million
 */
export const PPM = 1_000_000n;

/** How a module's outputs are compared by a mediator or across replicas; recorded on chain by id. */
export const Comparator = {
  exact: 0,
  tolerance: 1,
  similarity: 2,
} as const;
export type ComparatorName = keyof typeof Comparator;
