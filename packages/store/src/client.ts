// The store client every role uses. Whatever it fetches it re-hashes against the CID before
// returning, so a lying or corrupted store is caught here (CID_MISMATCH), not downstream.
import { readdirSync, readFileSync, writeFileSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { cidForBytes, cidForRecord, decodeRecord, verifyCid, LilyError, parse, ResultManifest } from "@lily/protocol";
import { createClient, storeRoutes } from "@lily/api";
import { getFile, putFile, type PutFileOptions } from "./chunkedFile.ts";

/** How many files putDirectory and downloadResult move at once. */
const FILES_AT_ONCE = 4;

/** Run `task(0..count-1)`, at most FILES_AT_ONCE at a time; the first failure rejects. */
async function inParallel(count: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) await task(i);
  };
  await Promise.all(Array.from({ length: Math.min(FILES_AT_ONCE, count) }, worker));
}

export class StoreClient {
  readonly url: string;
  private readonly api;

  constructor(url: string) {
    this.url = url;
    this.api = createClient(url, storeRoutes, { peer: `store at ${url}` });
  }

  async putBytes(bytes: Uint8Array): Promise<string> {
    const { cid } = await this.api.putBlock({ query: { codec: "raw" }, body: bytes });
    if (cid !== cidForBytes(bytes)) throw new LilyError({ code: "CID_MISMATCH", message: `store answered ${cid} for bytes hashing to ${cidForBytes(bytes)}` });
    return cid;
  }

  async putRecord(value: unknown): Promise<string> {
    const { cid: expected, bytes } = cidForRecord(value);
    const { cid } = await this.api.putBlock({ query: { codec: "dag-json" }, body: bytes });
    if (cid !== expected) throw new LilyError({ code: "CID_MISMATCH", message: `store answered ${cid} for a record hashing to ${expected}` });
    return cid;
  }

  /** Store an already-encoded dag-json record, e.g. a manifest built elsewhere, by its bytes. */
  async putRecordBytes(bytes: Uint8Array): Promise<string> {
    decodeRecord(bytes);
    const { cid } = await this.api.putBlock({ query: { codec: "dag-json" }, body: bytes });
    return cid;
  }

  async getBytes(cid: string): Promise<Uint8Array> {
    const bytes = await this.api.getBlock({ params: { cid } });
    // REJECT: bytes must hash to the CID they were asked for
    if (!verifyCid(cid, bytes)) throw new LilyError({ code: "CID_MISMATCH", field: "cid", message: `store returned bytes that do not hash to ${cid}` });
    return bytes;
  }

  async getRecord<T = unknown>(cid: string): Promise<T> {
    return decodeRecord<T>(await this.getBytes(cid));
  }

  async has(cid: string): Promise<boolean> {
    try {
      await this.api.hasBlock({ params: { cid } });
      return true;
    } catch (e) {
      if (e instanceof LilyError && e.code === "NOT_FOUND") return false;
      throw e;
    }
  }

  /** Store a file of any size as 1 MiB chunks and a root record (`fileRoot.ts`), streaming from disk; returns the root's CID. */
  putFile(path: string, opts?: PutFileOptions): Promise<string> {
    return putFile(this, path, opts);
  }

  /** Fetch the chunked file `cid` into `destPath`, every chunk checked, written under a temp name and renamed when complete. */
  getFile(cid: string, destPath: string): Promise<{ size: number }> {
    return getFile(this, cid, destPath);
  }

  /**
   * Upload every regular file in `dir` (flat) and return name -> CID, in name order. Up to
   * FILES_AT_ONCE uploads at once: a job's outputs (stdout, stderr, files) are on the
   * path to its commit, one round trip each when sent one after another.
   */
  async putDirectory(dir: string): Promise<Record<string, string>> {
    const names = readdirSync(dir)
      .sort()
      .filter((name) => statSync(join(dir, name)).isFile());
    const cids: string[] = new Array(names.length);
    await inParallel(names.length, async (i) => {
      cids[i] = await this.putBytes(new Uint8Array(readFileSync(join(dir, names[i]!))));
    });
    return Object.fromEntries(names.map((name, i) => [name, cids[i]!]));
  }

  /** Fetch a result manifest and write its files into `dir`; returns the manifest. */
  async downloadResult(resultCid: string, dir: string): Promise<ResultManifest> {
    const manifest = parse(ResultManifest, await this.getRecord(resultCid), "result");
    const entries = Object.entries(manifest.files);
    // REJECT: a name that would write outside `dir` (checked for every file before any is written)
    for (const [name] of entries)
      if (name.includes("/") || name.startsWith("."))
        throw new LilyError({ code: "INVALID_INPUT", field: `result.files.${name}`, message: `unsafe file name in result: ${name}` });
    mkdirSync(dir, { recursive: true });
    await inParallel(entries.length, async (i) => {
      const [name, cid] = entries[i]!;
      writeFileSync(join(dir, name), await this.getBytes(cid));
    });
    return manifest;
  }
}
