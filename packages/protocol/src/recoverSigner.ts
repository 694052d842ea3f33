// Who signed a 32-byte digest, from a 65-byte (r, s, v) signature: the address ecrecover gives.
// Every role checks several signatures per job (offers, deal signatures, statuses, results), and
// in pure JS (viem's noble-curves) one recovery costs ~4 ms on a 2-core machine: about a tenth of
// a job's CPU across the network. libsecp256k1, through the `secp256k1` package's prebuilt
// binding, does the same in ~70 µs. It is loaded only as its binding (never the package's
// `elliptic` fallback); where it cannot load, viem recovers instead. Both answer the same for
// every signature (packages/protocol/test/recoverSigner.test.ts checks them against each other).
import { createRequire } from "node:module";
import { bytesToHex, hexToBytes, recoverAddress, type Address, type Hex } from "viem";
import { publicKeyToAddress } from "viem/accounts";

interface Secp256k1Binding {
  ecdsaRecover(sig: Uint8Array, recid: number, msg32: Uint8Array, compressed: false): Uint8Array;
  ecdsaSign(msg32: Uint8Array, privateKey: Uint8Array): { signature: Uint8Array; recid: number };
  publicKeyCreate(privateKey: Uint8Array, compressed: false): Uint8Array;
}

let binding: Secp256k1Binding | null | undefined;

/** The native binding, or null where it cannot load (another platform, no prebuilt binary). */
export function nativeSecp256k1(): Secp256k1Binding | null {
  if (binding === undefined) {
    try {
      binding = createRequire(import.meta.url)("secp256k1/bindings.js") as Secp256k1Binding;
    } catch {
      binding = null;
    }
  }
  return binding;
}

/**
 * The signer of `digest`. `signature` must be 65 bytes with v of 27 or 28 (callers check the
 * contracts' rules first, signatureFlaw); throws when no public key recovers from it.
 */
export async function recoverSigner(digest: Hex, signature: Hex): Promise<Address> {
  const native = nativeSecp256k1();
  if (!native) return recoverAddress({ hash: digest, signature });
  return recoverNative(native, digest, signature);
}

export function recoverNative(native: Secp256k1Binding, digest: Hex, signature: Hex): Address {
  const bytes = hexToBytes(signature);
  const v = bytes.length === 65 ? bytes[64]! : -1;
  if (v !== 27 && v !== 28) throw new Error("a recoverable signature is 65 bytes with v 27 or 28");
  const publicKey = native.ecdsaRecover(bytes.subarray(0, 64), v - 27, hexToBytes(digest), false);
  return publicKeyToAddress(bytesToHex(publicKey));
}
