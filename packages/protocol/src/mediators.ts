// The set of mediators a deal may use: those both parties listed. A deal carries only the hash of
// the sorted set (one word on chain); whoever needs the list (a challenger, a mediator) supplies
// it and the contract checks it against the hash. The empty set hashes to zero, meaning "no
// mediation possible", which the contracts refuse for policies that need it.
import { encodeAbiParameters, getAddress, keccak256, type Address, type Hex } from "viem";

export const NO_MEDIATORS: Hex = `0x${"0".repeat(64)}`;

/** Mediators both lists contain, checksummed and sorted ascending by address value. */
export function commonMediators(a: readonly Address[], b: readonly Address[]): Address[] {
  const other = new Set(b.map((x) => x.toLowerCase()));
  const both = [...new Set(a.map((x) => x.toLowerCase()))].filter((x) => other.has(x));
  return both.sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : 1)).map((x) => getAddress(x));
}

/** keccak256(abi.encode(address[])) of the sorted set, or zero for the empty set. */
export function mediatorSetHash(sorted: readonly Address[]): Hex {
  if (sorted.length === 0) return NO_MEDIATORS;
  return keccak256(encodeAbiParameters([{ type: "address[]" }], [sorted as Address[]]));
}
