// Sets of addresses a deal commits to by hash: the mediators a deal may use, and under
// replicate(k) the group of providers it belongs to. A deal carries only
// keccak256(abi.encode(address[])) of the set, sorted ascending (one word on chain); whoever needs
// the list (a challenger, a mediator, a tally) supplies it and the contract checks it against the
// hash. The empty set hashes to zero: "no mediation possible" or "no group".
import { encodeAbiParameters, getAddress, keccak256, type Address, type Hex } from "viem";

export const NO_MEDIATORS: Hex = `0x${"0".repeat(64)}`;
/** `Deal.replicas` of a deal that is not part of a replica group. */
export const NO_REPLICAS: Hex = NO_MEDIATORS;

/** The addresses, without duplicates, checksummed and sorted ascending by value (the contracts' order). */
export function sortedAddresses(list: readonly Address[]): Address[] {
  const unique = [...new Set(list.map((x) => x.toLowerCase()))];
  return unique.sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : 1)).map((x) => getAddress(x));
}

/** keccak256(abi.encode(address[])) of a sorted set, or zero for the empty set. */
export function addressSetHash(sorted: readonly Address[]): Hex {
  if (sorted.length === 0) return NO_MEDIATORS;
  return keccak256(encodeAbiParameters([{ type: "address[]" }], [sorted as Address[]]));
}

/** Mediators both lists contain, sorted. */
export function commonMediators(a: readonly Address[], b: readonly Address[]): Address[] {
  const other = new Set(b.map((x) => x.toLowerCase()));
  return sortedAddresses(a.filter((x) => other.has(x.toLowerCase())));
}

/**
 * The mediators a deal may use: those both offers list, minus the deal's parties (its job creator
 * and its provider, or every provider of its replica group), since nobody rules on a dispute they
 * are party to. The contracts exclude the parties from the draw as well.
 */
export function dealMediators(job: readonly Address[], resource: readonly Address[], parties: readonly Address[]): Address[] {
  const excluded = new Set(parties.map((p) => p.toLowerCase()));
  return commonMediators(job, resource).filter((m) => !excluded.has(m.toLowerCase()));
}

/** keccak256(abi.encode(address[])) of the sorted set, or zero for the empty set. */
export const mediatorSetHash = addressSetHash;

/** `Deal.replicas`: the hash of a replica group's providers, sorted; zero outside replicate(k). */
export function replicaGroupHash(providers: readonly Address[]): Hex {
  return addressSetHash(sortedAddresses(providers));
}
