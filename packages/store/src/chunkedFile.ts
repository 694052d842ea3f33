// Large files in and out of the store, one chunk at a time, so memory stays at a chunk however
// large the file (a `docker save` archive is 50-300 MB; a block is at most the store's body limit).
// Going in, a chunk the store already holds is not sent again. Coming out, every chunk is checked
// against its CID and its expected length, and the file is written under a temporary name in the
// destination's folder and renamed once complete: a crash or a bad chunk never leaves a partial
// file under the final name.
import { open, rename, rm } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import { cidForBytes, cidForRecord, DAG_JSON_CODEC, LilyError, parseCid } from "@lily/protocol";
import { chunkLength, DEFAULT_CHUNK_BYTES, FILE_ROOT_FORMAT, MAX_CHUNK_BYTES, parseFileRoot, type FileRoot } from "./fileRoot.ts";

/** What chunked files need of a store: the verifying calls of `StoreClient`. */
export interface BlockClient {
  has(cid: string): Promise<boolean>;
  putBytes(bytes: Uint8Array): Promise<string>;
  putRecord(value: unknown): Promise<string>;
  getBytes(cid: string): Promise<Uint8Array>;
  getRecord<T = unknown>(cid: string): Promise<T>;
}

export interface PutFileOptions {
  /** Bytes per chunk; default `DEFAULT_CHUNK_BYTES` (1 MiB). */
  chunkSize?: number;
}

/** Store the file at `path` as chunks and a root record; returns the root's CID. Reads one chunk at a time. */
export async function putFile(store: BlockClient, path: string, opts: PutFileOptions = {}): Promise<string> {
  const root = await chunkFile(path, opts.chunkSize ?? DEFAULT_CHUNK_BYTES, async (cid, bytes) => {
    if (!(await store.has(cid))) await store.putBytes(bytes);
  });
  return store.putRecord(root);
}

/** The CID `putFile` gives the file at `path`, and its size, computed from the file alone (no store). */
export async function fileCid(path: string, opts: PutFileOptions = {}): Promise<{ cid: string; size: number }> {
  const root = await chunkFile(path, opts.chunkSize ?? DEFAULT_CHUNK_BYTES, async () => {});
  return { cid: cidForRecord(root).cid, size: root.size };
}

/** Read `path` one chunk at a time, handing each chunk and its CID to `onChunk` (awaited before the buffer is refilled); returns the root record. */
async function chunkFile(path: string, chunkSize: number, onChunk: (cid: string, bytes: Uint8Array) => Promise<void>): Promise<FileRoot> {
  if (!Number.isInteger(chunkSize) || chunkSize <= 0 || chunkSize > MAX_CHUNK_BYTES)
    throw new LilyError({ code: "INVALID_INPUT", field: "chunkSize", message: `chunkSize: must be an integer from 1 to ${MAX_CHUNK_BYTES}` });
  const chunks: string[] = [];
  let size = 0;
  const handle = await open(path, "r");
  try {
    // One buffer for the whole file: the client sends a copy of a request body, and each chunk is
    // handled before the buffer is filled again.
    const buffer = new Uint8Array(chunkSize);
    for (;;) {
      const n = await readFull(handle, buffer);
      if (n === 0) break;
      const bytes = buffer.subarray(0, n);
      const cid = cidForBytes(bytes);
      await onChunk(cid, bytes);
      chunks.push(cid);
      size += n;
      if (n < chunkSize) break;
    }
  } finally {
    await handle.close();
  }
  return { format: FILE_ROOT_FORMAT, size, chunkSize, chunks };
}

/**
 * Fetch the chunked file `cid` into `destPath`: the root is checked against its CID and parsed,
 * every chunk against its CID and length. Returns the file's size. A chunk no store holds is
 * NOT_FOUND, a chunk that does not hash to its CID CID_MISMATCH, each naming `chunks.<i>`.
 */
export async function getFile(store: BlockClient, cid: string, destPath: string): Promise<{ size: number }> {
  // REJECT: a file's CID is the CID of a dag-json root record, never a raw block
  if (parseCid(cid).code !== DAG_JSON_CODEC)
    throw new LilyError({ code: "INVALID_INPUT", field: "cid", message: `cid: ${cid} is a raw block, not the root record of a chunked file` });
  const root = parseFileRoot(await store.getRecord(cid), "file root");
  const tmp = join(dirname(destPath), `.${basename(destPath)}.${randomBytes(6).toString("hex")}.part`);
  const handle = await open(tmp, "wx");
  let open_ = true;
  try {
    for (let i = 0; i < root.chunks.length; i++) {
      const bytes = await getChunk(store, root, i, cid);
      await writeFull(handle, bytes);
    }
    // The data reaches the disk before the rename makes it visible under the final name.
    await handle.datasync();
    open_ = false;
    await handle.close();
    await rename(tmp, destPath);
  } catch (e) {
    if (open_) await handle.close();
    await rm(tmp, { force: true });
    throw e;
  }
  return { size: root.size };
}

async function getChunk(store: BlockClient, root: FileRoot, i: number, file: string): Promise<Uint8Array> {
  const cid = root.chunks[i]!;
  let bytes: Uint8Array;
  try {
    // getBytes re-hashes: REJECT: a chunk's bytes must hash to the CID the root lists
    bytes = await store.getBytes(cid);
  } catch (e) {
    if (e instanceof LilyError && (e.code === "NOT_FOUND" || e.code === "CID_MISMATCH"))
      throw new LilyError({ code: e.code, field: `chunks.${i}`, message: `chunk ${i} (${cid}) of file ${file}: ${e.message}`, cause: e });
    throw e;
  }
  // REJECT: a chunk must be as long as its place in the file says (a root may only list chunks that fit its size)
  if (bytes.length !== chunkLength(root, i))
    throw new LilyError({
      code: "INVALID_INPUT",
      field: `chunks.${i}`,
      message: `chunk ${i} (${cid}) of file ${file} is ${bytes.length} bytes where the root implies ${chunkLength(root, i)}`,
    });
  return bytes;
}

/** Fill `buffer` from the file's current position; fewer bytes only at the end of the file. */
async function readFull(handle: FileHandle, buffer: Uint8Array): Promise<number> {
  let filled = 0;
  while (filled < buffer.length) {
    const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled;
}

async function writeFull(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, written, bytes.length - written);
    written += bytesWritten;
  }
}
