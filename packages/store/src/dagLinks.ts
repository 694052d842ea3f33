// What a block links to, and the walk over a DAG in depth-first order: what a CAR of a CID holds
// (trustlessGateway.ts) and what publishing a CID to an IPFS node sends (ipfsPublish.ts).
//
// Lily's records link to other blocks by CID *strings* (a result's files, a chunked file's chunks,
// a module's wasm), not by IPLD links (CID values), so an IPLD-only walk would stop at the root.
// The links below are therefore the IPLD links of any record plus, for the record shapes Lily
// knows, the CID strings that are part of the thing:
//   - a chunked file's root (`lily-file-v1`): its chunks, in file order;
//   - a result manifest: its files (not `module` and `inputs`: those are the job's, not its output);
//   - a module manifest: its wasm binary or its image archive;
//   - a model manifest: its weights.
// Each shape is matched loosely (only the link-bearing fields), so a manifest from an older or newer
// schema still yields its links.
import * as z from "zod";
import { CID } from "multiformats/cid";
import { DAG_JSON_CODEC, decodeRecord, isCid } from "@lily/protocol";
import { isFileRoot, type FileRoot } from "./fileRoot.ts";

const cidString = z.string().refine(isCid);
const resultShape = z.object({ module: cidString, inputs: cidString, exitCode: z.number().int(), files: z.record(z.string(), cidString) });
const moduleShape = z.object({ name: z.string(), version: z.string(), executor: z.object({ wasm: cidString.optional(), archive: cidString.optional() }) });
const modelShape = z.object({ kind: z.literal("model"), weights: cidString });

/** The blocks `bytes` (the block of `cid`) links to, in order: Lily's known CID fields first, then IPLD links. */
export function linksOf(cid: CID, bytes: Uint8Array): CID[] {
  if (cid.code !== DAG_JSON_CODEC) return [];
  const value = decodeRecord(bytes);
  const named: string[] = [];
  if (isFileRoot(value)) named.push(...value.chunks);
  else if (modelShape.safeParse(value).success) named.push((value as { weights: string }).weights);
  else {
    const m = moduleShape.safeParse(value);
    if (m.success) named.push(...[m.data.executor.wasm, m.data.executor.archive].filter((c): c is string => c !== undefined));
    const r = resultShape.safeParse(value);
    if (r.success) named.push(...Object.values(r.data.files));
  }
  const links = named.map((s) => CID.parse(s));
  collectIpldLinks(value, links);
  return links;
}

function collectIpldLinks(value: unknown, into: CID[]): void {
  const cid = CID.asCID(value);
  if (cid) into.push(cid);
  else if (Array.isArray(value)) for (const v of value) collectIpldLinks(v, into);
  else if (value !== null && typeof value === "object" && !(value instanceof Uint8Array)) for (const v of Object.values(value)) collectIpldLinks(v, into);
}

/** How much of the DAG under a CID a walk covers (the trustless gateway's `dag-scope`). */
export type DagScope = "block" | "entity" | "all";

/** An inclusive byte range of a chunked file (the gateway's `entity-bytes`); `to` undefined is the end, negatives count from the end. */
export interface EntityBytes {
  from: number;
  to: number | undefined;
}

export interface WalkOptions {
  scope: DagScope;
  /** Only the chunks a chunked-file root needs for this range (implies scope `entity`). */
  entityBytes?: EntityBytes;
}

/** Where the walk reads blocks; a missing block throws (NOT_FOUND), which ends the walk there. */
export type GetBlock = (cid: CID) => Promise<Uint8Array>;

/**
 * The blocks of the DAG under `root` in depth-first order, each once, each read when it is
 * reached, so a walk of a 300 MB file holds one chunk at a time. Identity CIDs carry their bytes
 * inside the CID and are never sent as blocks (the gateway spec forbids it in CARs).
 *
 * Each block once (the gateway's `dups=n`), never as often as it is linked: anyone may store
 * records, and a record listing one large block many times, nested, would otherwise turn one
 * request into unbounded bytes. The walk keeps its own stack rather than recursing, so a long chain
 * of records costs its length, not its length squared nor the call stack.
 */
export async function* walkDag(root: CID, get: GetBlock, opts: WalkOptions): AsyncGenerator<{ cid: CID; bytes: Uint8Array }> {
  const seen = new Set<string>();
  const stack: CID[] = [root];
  let first = true;
  while (stack.length > 0) {
    const cid = stack.pop()!;
    if (cid.multihash.code === IDENTITY) continue;
    const key = cid.toV1().toString();
    if (seen.has(key)) continue;
    seen.add(key);
    const bytes = await get(cid);
    yield { cid, bytes };
    let links: CID[];
    if (!first || opts.scope === "all") links = linksOf(cid, bytes);
    else if (opts.scope === "block") links = [];
    else {
      // entity: a chunked file is an entity of bytes, like a UnixFS file: its chunks (those of the
      // range); any other record is the block alone, as the spec says of non-UnixFS data.
      const value = cid.code === DAG_JSON_CODEC ? decodeRecord(bytes) : undefined;
      links = isFileRoot(value) ? chunksInRange(value, opts.entityBytes).map((s) => CID.parse(s)) : [];
    }
    first = false;
    // Reversed onto the stack, so the first link is walked first.
    for (let i = links.length - 1; i >= 0; i--) stack.push(links[i]!);
  }
}

const IDENTITY = 0x00;

/** The chunks of `root` holding the bytes of `range` (all of them without one); none when the range is empty or outside the file. */
export function chunksInRange(root: FileRoot, range: EntityBytes | undefined): string[] {
  if (!range) return root.chunks;
  const from = range.from < 0 ? Math.max(0, root.size + range.from) : range.from;
  const to = range.to === undefined ? root.size - 1 : range.to < 0 ? root.size + range.to : Math.min(range.to, root.size - 1);
  if (from > to || from >= root.size || to < 0) return [];
  return root.chunks.slice(Math.floor(from / root.chunkSize), Math.floor(to / root.chunkSize) + 1);
}
