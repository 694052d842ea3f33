// Content ids: real CIDv1 with sha-256. Files and module binaries are `raw` blocks; records that
// link to other blocks (result manifests, module manifests, job inputs) are `dag-json` blocks.
// On chain only the 32-byte sha-256 digest is stored; the CID is rebuilt from it and the codec.
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import * as Digest from "multiformats/hashes/digest";
import { sha256 } from "multiformats/hashes/sha2";
import { createHash } from "node:crypto";
import * as dagJson from "@ipld/dag-json";
import { LilyError } from "./errors.ts";

export const RAW_CODEC = raw.code; // 0x55
export const DAG_JSON_CODEC = dagJson.code; // 0x0129
const SHA256 = sha256.code;

export type Hex32 = `0x${string}`;

function sha256Sync(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(bytes).digest());
}

function cidOf(codec: number, bytes: Uint8Array): string {
  return CID.createV1(codec, Digest.create(SHA256, sha256Sync(bytes))).toString();
}

/** The CID of a file or binary (codec raw). */
export function cidForBytes(bytes: Uint8Array): string {
  return cidOf(RAW_CODEC, bytes);
}

/** Canonical dag-json encoding of a record; the same value always gives the same bytes. */
export function encodeRecord(value: unknown): Uint8Array {
  return dagJson.encode(value);
}

export function decodeRecord<T = unknown>(bytes: Uint8Array): T {
  return dagJson.decode(bytes) as T;
}

/** The CID of a record (codec dag-json). */
export function cidForRecord(value: unknown): { cid: string; bytes: Uint8Array } {
  const bytes = encodeRecord(value);
  return { cid: cidOf(DAG_JSON_CODEC, bytes), bytes };
}

export function parseCid(cid: string, field = "cid"): CID {
  try {
    const c = CID.parse(cid);
    if (c.version !== 1 || c.multihash.code !== SHA256) throw new Error("only CIDv1 with sha-256 is accepted");
    return c;
  } catch (e) {
    throw new LilyError({ code: "INVALID_INPUT", field, message: `${field}: not a CIDv1 sha-256 content id: ${cid}`, cause: e });
  }
}

export function isCid(s: string): boolean {
  try {
    parseCid(s);
    return true;
  } catch {
    return false;
  }
}

/** Hash `bytes` with the CID's algorithm and compare; used by every fetcher before trusting data. */
export function verifyCid(cid: string, bytes: Uint8Array): boolean {
  const c = parseCid(cid);
  return cidOf(c.code, bytes) === c.toString();
}

/** The bytes32 digest put on chain for a CID. */
export function cidDigest(cid: string): Hex32 {
  return `0x${Buffer.from(parseCid(cid).multihash.digest).toString("hex")}`;
}

/** Rebuild a CID from the digest stored on chain. */
export function cidFromDigest(digest: Hex32, codec: number = DAG_JSON_CODEC): string {
  const bytes = Buffer.from(digest.slice(2), "hex");
  if (bytes.length !== 32) throw new LilyError({ code: "INVALID_INPUT", field: "digest", message: "digest must be 32 bytes" });
  return CID.createV1(codec, Digest.create(SHA256, new Uint8Array(bytes))).toString();
}
