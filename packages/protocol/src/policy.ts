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
