// Sets of addresses a deal commits to by hash: the mediators a deal may use, and under
// replicate(k) the group of providers it belongs to. A deal carries only
// keccak256(abi.encode(address[])) of the set, sorted ascending (one word on chain); whoever needs
// the list (a challenger, a mediator, a tally) supplies it and the contract checks it against the
// hash. The empty set hashes to zero: "no mediation possible" or "no group".
//
// The solver derives a deal's terms per match, and a market has few distinct mediator sets, so
// each set's hash is computed once (written straight into one buffer rather than through viem's
// ABI encoder) and kept; checksums likewise, through js-sha3 (keccak.ts) rather than viem's
// getAddress and isAddress (noble's keccak, about twice as slow here): a replica group's providers
// are mostly new to the caches. test/mediators.test.ts holds both to viem's answers.
import { encodeAbiParameters, getAddress, keccak256, type Address, type Hex } from "viem";
import { checksumLower, keccakHex } from "./keccak.ts";

export const NO_MEDIATORS: Hex = `0x${"0".repeat(64)}`;
/** `Deal.replicas` of a deal that is not part of a replica group. */
export const NO_REPLICAS: Hex = NO_MEDIATORS;

/** Most entries each cache below holds before it starts again (a bound, not a tuning knob). */
const CACHE_LIMIT = 16_384;

const LOWER_ADDRESS = /^0x[0-9a-f]{40}$/;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
/** Lowercase address -> checksummed. */
const checksums = new Map<string, Address>();

function checksummed(lower: string): Address {
  let a = checksums.get(lower);
  if (a === undefined) {
    a = checksumLower(lower);
    if (checksums.size >= CACHE_LIMIT) checksums.clear();
    checksums.set(lower, a);
  }
  return a;
}

/** The addresses, without duplicates, checksummed and sorted ascending by value (the contracts' order). */
export function sortedAddresses(list: readonly Address[]): Address[] {
  const unique = [...new Set(list.map((x) => x.toLowerCase()))];
  // Lowercase hex of one length sorts by value as text; anything else is sorted (or refused) by value as before.
  if (unique.every((x) => LOWER_ADDRESS.test(x))) return unique.sort().map(checksummed);
  return unique.sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : 1)).map((x) => getAddress(x));
}

/**
 * Whether viem's encoder takes `a` as an address (its `isAddress`): 40 hex digits, and spelled
 * either all lowercase or as its checksum. Through the checksum cache, so an address
 * `sortedAddresses` just checksummed costs no second hash.
 */
function encodable(a: string): boolean {
  if (!ADDRESS.test(a)) return false;
  const lower = a.toLowerCase();
  return lower === a || checksummed(lower) === a;
}

/** List (as given, joined) -> its hash; only lists viem would encode are kept. */
const setHashes = new Map<string, Hex>();

/** abi.encode(address[]) of valid addresses: the offset word, the length word, then each address in its word. */
function encodeAddressArray(list: readonly string[]): Uint8Array {
  const out = new Uint8Array(32 * (2 + list.length));
  out[31] = 0x20;
  let n = list.length;
  for (let i = 63; n > 0; i--) {
    out[i] = n % 256;
    n = Math.floor(n / 256);
  }
  for (let w = 0; w < list.length; w++) {
    const a = list[w]!;
    const at = 32 * (2 + w) + 12;
    for (let i = 0; i < 20; i++) out[at + i] = Number.parseInt(a.slice(2 + 2 * i, 4 + 2 * i), 16);
  }
  return out;
}

/** keccak256(abi.encode(address[])) of a sorted set, or zero for the empty set. */
export function addressSetHash(sorted: readonly Address[]): Hex {
  if (sorted.length === 0) return NO_MEDIATORS;
  const key = sorted.join(",");
  let h = setHashes.get(key);
  if (h === undefined) {
    // An address viem's encoder refuses (a bad checksum, not an address) goes to viem for its error.
    h = sorted.every(encodable) ? keccakHex(encodeAddressArray(sorted)) : keccak256(encodeAbiParameters([{ type: "address[]" }], [sorted as Address[]]));
    if (setHashes.size >= CACHE_LIMIT) setHashes.clear();
    setHashes.set(key, h);
  }
  return h;
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
  // Most deals name no mediator (a trust job lists none): no sets to build per deal for that.
  if (job.length === 0 || resource.length === 0) return [];
  const excluded = new Set(parties.map((p) => p.toLowerCase()));
  return commonMediators(job, resource).filter((m) => !excluded.has(m.toLowerCase()));
}

/** keccak256(abi.encode(address[])) of the sorted set, or zero for the empty set. */
export const mediatorSetHash = addressSetHash;

/** `Deal.replicas`: the hash of a replica group's providers, sorted; zero outside replicate(k). */
export function replicaGroupHash(providers: readonly Address[]): Hex {
  return addressSetHash(sortedAddresses(providers));
}
