// Content ids in the browser, the same as @lily/protocol computes them on a server: CIDv1 with
// sha-256, `raw` for a module's binary and `dag-json` for its manifest record. Hashing is viem's
// (noble), not crypto.subtle, so it works on a devnet reached over plain http from another host.
import { CID } from "multiformats/cid";
import * as Digest from "multiformats/hashes/digest";
import { bytesToHex, hexToBytes, sha256 } from "viem";

export const RAW_CODEC = 0x55;
export const DAG_JSON_CODEC = 0x0129;
const SHA256 = 0x12;

export function cidOf(codec: number, bytes: Uint8Array): string {
  return CID.createV1(codec, Digest.create(SHA256, sha256(bytes, "bytes"))).toString();
}

/** A CIDv1 sha-256 with the codec given, or null. */
export function parseCid(text: string, codec: number): CID | null {
  try {
    const c = CID.parse(text);
    return c.version === 1 && c.multihash.code === SHA256 && c.code === codec ? c : null;
  } catch {
    return null;
  }
}

/** The 32-byte digest the registry stores for a manifest's CID. */
export function cidDigest(cid: string): `0x${string}` {
  return bytesToHex(CID.parse(cid).multihash.digest);
}

/** A manifest's CID rebuilt from the digest the registry holds (the dag-json codec). */
export function cidFromDigest(digest: `0x${string}`): string {
  return CID.createV1(DAG_JSON_CODEC, Digest.create(SHA256, hexToBytes(digest))).toString();
}
