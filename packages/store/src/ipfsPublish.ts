// Publish a CID from a Lily store to an IPFS node its user already runs (Kubo, or anything speaking
// Kubo's RPC API), so the node keeps and provides it: every block of the DAG under the CID
// (dagLinks.ts: a result's files, a chunked file's chunks, a module's binary) is read from the store
// (each checked against its CID by the client), then sent with `POST /api/v0/block/put` and pinned.
//
// Why block/put with pin=true per block rather than one `dag/import` of a CAR: Lily's records link
// by CID strings, which Kubo does not follow, so pinning the root would leave the chunks and files
// unpinned and collectable; pinning each block keeps all of them. One block at a time also keeps
// memory at one block however large the result.
import { CID } from "multiformats/cid";
import { DAG_JSON_CODEC, LilyError, RAW_CODEC } from "@lily/protocol";
import { walkDag } from "./dagLinks.ts";

/** Kubo refuses blocks over 1 MiB unless told they may be (`allow-big-block`); Bitswap will not carry them past 2 MiB. */
const KUBO_BLOCK_LIMIT = 1024 * 1024;

export interface IpfsPublishOptions {
  /** Pin each block on the node (default true), so its garbage collector keeps them. */
  pin?: boolean;
  /** Called after each block the node took. */
  onBlock?: (b: { cid: string; size: number }) => void;
  signal?: AbortSignal;
}

export interface IpfsPublishResult {
  cid: string;
  blocks: number;
  bytes: number;
  /** Blocks over 1 MiB: kept by the node, but other IPFS peers may refuse to fetch them over Bitswap. */
  bigBlocks: number;
}

/** The Kubo RPC API's root, e.g. http://127.0.0.1:5001; INVALID_INPUT naming `field` otherwise. */
export function parseIpfsApiUrl(text: string, field = "ipfsApi"): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch (e) {
    throw new LilyError({
      code: "INVALID_INPUT",
      field,
      message: `${field}: not a URL: ${text}`,
      hint: "e.g. http://127.0.0.1:5001 (Kubo's RPC API)",
      cause: e,
    });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new LilyError({ code: "INVALID_INPUT", field, message: `${field}: must be http or https, not ${url.protocol}` });
  return url;
}

/**
 * Send every block of the DAG under `cid` from `store` to the IPFS node whose RPC API is `apiUrl`,
 * checking that the node names each block by the same CID. A store that lacks a block is NOT_FOUND
 * (nothing after it is sent), a node that cannot be reached or refuses a block UNREACHABLE, a node
 * that answers another CID CID_MISMATCH.
 */
export async function publishToIpfs(
  store: { getBytes(cid: string): Promise<Uint8Array> },
  cid: string,
  apiUrl: string,
  opts: IpfsPublishOptions = {},
): Promise<IpfsPublishResult> {
  const api = parseIpfsApiUrl(apiUrl);
  let root: CID;
  try {
    root = CID.parse(cid);
  } catch (e) {
    throw new LilyError({ code: "INVALID_INPUT", field: "cid", message: `cid: not a CID: ${cid}`, cause: e });
  }
  const result: IpfsPublishResult = { cid: root.toString(), blocks: 0, bytes: 0, bigBlocks: 0 };
  for await (const block of walkDag(root, (c) => store.getBytes(c.toString()), { scope: "all" })) {
    await putBlock(api, block.cid, block.bytes, opts);
    result.blocks++;
    result.bytes += block.bytes.length;
    if (block.bytes.length > KUBO_BLOCK_LIMIT) result.bigBlocks++;
    opts.onBlock?.({ cid: block.cid.toString(), size: block.bytes.length });
  }
  return result;
}

async function putBlock(api: URL, cid: CID, bytes: Uint8Array, opts: IpfsPublishOptions): Promise<void> {
  const codec = cid.code === RAW_CODEC ? "raw" : cid.code === DAG_JSON_CODEC ? "dag-json" : undefined;
  if (!codec)
    throw new LilyError({ code: "INVALID_INPUT", field: "cid", message: `cid: ${cid} has a codec (0x${cid.code.toString(16)}) the store does not hold` });
  const url = new URL("api/v0/block/put", api.href.endsWith("/") ? api : `${api.href}/`);
  url.searchParams.set("cid-codec", codec);
  url.searchParams.set("mhtype", "sha2-256");
  url.searchParams.set("pin", String(opts.pin ?? true));
  if (bytes.length > KUBO_BLOCK_LIMIT) url.searchParams.set("allow-big-block", "true");
  const form = new FormData();
  form.append("file", new Blob([bytes as Uint8Array<ArrayBuffer>]), cid.toString());
  let res: Response;
  try {
    res = await fetch(url, { method: "POST", body: form, signal: opts.signal });
  } catch (e) {
    throw new LilyError({ code: "UNREACHABLE", field: "ipfsApi", message: `the IPFS node at ${api.origin} did not answer: ${(e as Error).message}`, cause: e });
  }
  const text = await res.text();
  if (!res.ok)
    throw new LilyError({
      code: "UNREACHABLE",
      field: "ipfsApi",
      message: `the IPFS node at ${api.origin} refused block ${cid} (HTTP ${res.status}): ${kuboMessage(text)}`,
      details: { status: res.status },
    });
  let key: string | undefined;
  try {
    key = (JSON.parse(text) as { Key?: unknown }).Key as string | undefined;
    // REJECT: the node must name the block by the CID it was sent under (same codec, same hash)
    if (typeof key !== "string" || !CID.parse(key).toV1().equals(cid.toV1())) throw new Error("other CID");
  } catch {
    throw new LilyError({ code: "CID_MISMATCH", field: "ipfsApi", message: `the IPFS node at ${api.origin} stored block ${cid} as ${String(key)}` });
  }
}

/** Kubo's error body is `{"Message": ..., "Code": ..., "Type": "error"}`; anything else is shown cut short. */
function kuboMessage(text: string): string {
  try {
    const m = (JSON.parse(text) as { Message?: unknown }).Message;
    if (typeof m === "string") return m;
  } catch {}
  return text.slice(0, 200);
}
