// A fast EIP-712 digest for Lily's records: the same bytes as viem's `hashTypedData`, without its
// per-call work. viem rebuilds the domain's types, re-validates the type graph, re-derives and
// re-hashes the type string, hashes the domain again and ABI-encodes through hex strings for every
// digest (about 200 µs for a deal); the solver hashes a deal id per match. Here each record type's
// hash and field encoders are built once, each domain separator is hashed once, and the struct is
// written straight into one buffer.
//
// Every field type Lily's records use is flat (address, bool-free uintN, bytes32, string, and
// arrays of address or string), so the encoding is EIP-712's `encodeData` without nested structs.
// A value this encoder cannot check cheaply and exactly (an out-of-range or non-integer number, a
// mixed-case address with a bad checksum, a missing field) makes it return undefined, and the
// caller hashes with viem instead: viem's answer, or viem's error, is what the caller gets. So the
// two never disagree (test/typedHash.test.ts checks them against each other on random records).
import { bytesToHex, isAddress, type Address, type Hex } from "viem";
import { keccakBytes as keccak } from "./keccak.ts";

type Field = { readonly name: string; readonly type: string };
/** Write `value` as the field's 32-byte word at `at`; false when it cannot be done exactly here. */
type Encode = (value: unknown, out: Uint8Array, at: number) => boolean;

const utf8 = new TextEncoder();

/** Hex digits (no 0x) into `out` at `at`; false on a non-hex digit. */
function writeHex(hex: string, from: number, out: Uint8Array, at: number, bytes: number): boolean {
  for (let i = 0; i < bytes; i++) {
    const hi = nibble(hex.charCodeAt(from + 2 * i));
    const lo = nibble(hex.charCodeAt(from + 2 * i + 1));
    if (hi < 0 || lo < 0) return false;
    out[at + i] = (hi << 4) | lo;
  }
  return true;
}

function nibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48; // 0-9
  if (c >= 97 && c <= 102) return c - 87; // a-f
  if (c >= 65 && c <= 70) return c - 55; // A-F
  return -1;
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
/** viem's rule: a mixed- or upper-case address must carry a valid checksum (viem caches that check). */
const validAddress = (v: unknown): v is Address => typeof v === "string" && ADDRESS.test(v) && (v === v.toLowerCase() || isAddress(v));

const encodeAddress: Encode = (v, out, at) => {
  if (!validAddress(v)) return false;
  out.fill(0, at, at + 12);
  return writeHex(v, 2, out, at + 12, 20);
};

const encodeBytes32: Encode = (v, out, at) => typeof v === "string" && v.length === 66 && v.startsWith("0x") && writeHex(v, 2, out, at, 32);

const encodeString: Encode = (v, out, at) => {
  if (typeof v !== "string") return false;
  out.set(keccak(utf8.encode(v)), at);
  return true;
};

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function encodeUint(bits: number): Encode {
  const max = (1n << BigInt(bits)) - 1n;
  return (v, out, at) => {
    let n: bigint;
    if (typeof v === "bigint") n = v;
    else if (typeof v === "number" && Number.isSafeInteger(v)) n = BigInt(v);
    else return false;
    if (n < 0n || n > max) return false;
    out.fill(0, at, at + 32);
    if (n <= MAX_SAFE) {
      // Most values (sizes, times, prices in wei up to 2^53) need no bigint arithmetic per byte.
      let v = Number(n);
      for (let i = at + 31; v > 0; i--) {
        out[i] = v % 256;
        v = Math.floor(v / 256);
      }
      return true;
    }
    const hex = n.toString(16);
    const padded = hex.length % 2 ? `0${hex}` : hex;
    return writeHex(padded, 0, out, at + 32 - padded.length / 2, padded.length / 2);
  };
}

/** An array field: the keccak of its items' words, concatenated. */
function encodeArray(item: Encode): Encode {
  return (v, out, at) => {
    if (!Array.isArray(v)) return false;
    const words = new Uint8Array(32 * v.length);
    for (let i = 0; i < v.length; i++) if (!item(v[i], words, 32 * i)) return false;
    out.set(keccak(words), at);
    return true;
  };
}

function encoderFor(type: string): Encode | undefined {
  if (type.endsWith("[]")) {
    const item = encoderFor(type.slice(0, -2));
    return item && encodeArray(item);
  }
  if (type === "address") return encodeAddress;
  if (type === "bytes32") return encodeBytes32;
  if (type === "string") return encodeString;
  const uint = /^uint(\d+)$/.exec(type);
  if (uint) {
    const bits = Number(uint[1]);
    if (bits >= 8 && bits <= 256 && bits % 8 === 0) return encodeUint(bits);
  }
  return undefined; // a type this encoder does not know: viem hashes it
}

/** One record type, compiled: its type hash and one encoder per field. */
export interface StructEncoder {
  /** keccak256 of the struct's encodeData, or undefined when a value needs viem's handling. */
  hash(message: Record<string, unknown>): Uint8Array | undefined;
}

/** Compile a flat struct type (no nested structs): undefined if any field's type is not one handled here. */
export function structEncoder(name: string, fields: readonly Field[]): StructEncoder | undefined {
  const encoders = fields.map((f) => encoderFor(f.type));
  if (encoders.some((e) => e === undefined)) return undefined;
  // Hashed on first use, not when the module loads: a process that never hashes a record (an
  // idle store) then runs less keccak at start-up; with these hashes it was often enough for V8
  // to optimise keccak with TurboFan, which pages ~5 MiB more of the node binary in (RSS).
  let typeHash: Uint8Array | undefined;
  const names = fields.map((f) => f.name);
  const size = 32 * (fields.length + 1);
  return {
    hash(message) {
      typeHash ??= keccak(utf8.encode(`${name}(${fields.map((f) => `${f.type} ${f.name}`).join(",")})`));
      const out = new Uint8Array(size);
      out.set(typeHash, 0);
      for (let i = 0; i < names.length; i++) if (!encoders[i]!(message[names[i]!], out, 32 * (i + 1))) return undefined;
      return keccak(out);
    },
  };
}

const domainEncoder = structEncoder("EIP712Domain", [
  { name: "name", type: "string" },
  { name: "version", type: "string" },
  { name: "chainId", type: "uint256" },
  { name: "verifyingContract", type: "address" },
])!;

/** Domain separators by name, version, chain and contract; a handful per process, so kept for good (bounded all the same). */
const separators = new Map<string, Uint8Array | null>();

/** The domain separator of `domain`, hashed once; undefined when viem must judge the domain. */
export function domainSeparator(domain: { name: string; version: string; chainId: number; verifyingContract: Address }): Uint8Array | undefined {
  const key = `${domain.name}\u0000${domain.version}\u0000${domain.chainId}\u0000${domain.verifyingContract}`;
  let s = separators.get(key);
  if (s === undefined) {
    s = domainEncoder.hash(domain as unknown as Record<string, unknown>) ?? null;
    if (separators.size >= 64) separators.clear();
    separators.set(key, s);
  }
  return s ?? undefined;
}

/** keccak256(0x1901 ‖ domainSeparator ‖ structHash): the EIP-712 digest. */
export function digest(separator: Uint8Array, structHash: Uint8Array): Hex {
  const out = new Uint8Array(66);
  out[0] = 0x19;
  out[1] = 0x01;
  out.set(separator, 2);
  out.set(structHash, 34);
  return bytesToHex(keccak(out));
}
