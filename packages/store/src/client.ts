// The store client every role uses. Whatever it fetches it re-hashes against the CID before
// returning, so a lying or corrupted store is caught here (CID_MISMATCH), not downstream.
import { readdirSync, readFileSync, writeFileSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import {
  cidForBytes,
  cidForRecord,
  decodeRecord,
  verifyCid,
  isLilyError,
  nodeFetch,
  LilyError,
  parse,
  ResultManifest,
  DAG_JSON_CODEC,
  parseCid,
} from "@lily/protocol";
import { createClient, storeRoutes } from "@lily/api";
import { getFile, putFile, type PutFileOptions } from "./chunkedFile.ts";
import { MEDIA_TYPE_CAR, carOf, verifiedBlocks, type Block } from "./carTransfer.ts";

/** How many files putDirectory and downloadResult move at once. */
const FILES_AT_ONCE = 4;
/**
 * Outputs up to this size go up with their manifest in one CAR; larger ones a file at a time, so
 * a provider never holds a whole large result in memory twice (its files and the CAR of them).
 */
const RESULT_CAR_MAX_BYTES = 16 * 1024 * 1024;
/** How long downloading a result as one CAR may take before it is given up (the per-block way then takes over). */
const RESULT_CAR_TIMEOUT_MS = 60_000;

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
    const names = filesIn(dir).map((f) => f.name);
    const cids: string[] = new Array(names.length);
    await inParallel(names.length, async (i) => {
      cids[i] = await this.putBytes(new Uint8Array(readFileSync(join(dir, names[i]!))));
    });
    return Object.fromEntries(names.map((name, i) => [name, cids[i]!]));
  }

  /**
   * Store many blocks in one request (a CAR, `POST /v1/car`), checking that the store took each
   * under the CID it hashes to. A store without the route (an older one) gets them one by one.
   */
  async putBlocks(roots: readonly string[], blocks: readonly Block[]): Promise<void> {
    let stored: string[];
    try {
      stored = (await this.api.putCar({ body: carOf(roots, blocks) })).blocks.map((b) => b.cid);
    } catch (e) {
      if (!(isLilyError(e, "NOT_FOUND") && e.field === "path")) throw e;
      for (const b of blocks) {
        if (parseCid(b.cid).code === DAG_JSON_CODEC) await this.putRecordBytes(b.bytes);
        else await this.putBytes(b.bytes);
      }
      return;
    }
    const sent = blocks.map((b) => b.cid);
    if (stored.join() !== sent.join())
      throw new LilyError({ code: "CID_MISMATCH", message: `store answered ${stored.join(", ")} for blocks ${sent.join(", ")}` });
  }

  /**
   * Store a job's output files (every regular file in `dir`, flat) and the result manifest naming
   * them; returns the manifest's CID. One request for all of it when the files are small enough.
   */
  async putResult(dir: string, fields: Omit<ResultManifest, "files">): Promise<string> {
    const listed = filesIn(dir);
    const total = listed.reduce((n, f) => n + f.size, 0);
    if (total > RESULT_CAR_MAX_BYTES) return this.putRecord({ ...fields, files: await this.putDirectory(dir) } satisfies ResultManifest);
    const files = listed.map(({ name }) => {
      const bytes = new Uint8Array(readFileSync(join(dir, name)));
      return { name, cid: cidForBytes(bytes), bytes };
    });
    const result: ResultManifest = { ...fields, files: Object.fromEntries(files.map((f) => [f.name, f.cid])) };
    const { cid, bytes } = cidForRecord(result);
    // Two files with the same bytes (an empty stdout and stderr) are one block.
    const unique = [...new Map(files.map((f) => [f.cid, { cid: f.cid, bytes: f.bytes }])).values()];
    await this.putBlocks([cid], [...unique, { cid, bytes }]);
    return cid;
  }

  /**
   * Fetch a result manifest and write its files into `dir`; returns the manifest. The manifest and
   * its files come as one CAR from the store's gateway, every block checked; a file the CAR lacked
   * (or a store without a gateway) is fetched block by block.
   */
  async downloadResult(resultCid: string, dir: string): Promise<ResultManifest> {
    const written = new Set<string>();
    let manifest: ResultManifest | undefined;
    try {
      manifest = await this.downloadResultCar(resultCid, dir, written);
    } catch (e) {
      // A CAR that broke off is fetched the other way; a refusal of the result itself (an unsafe
      // name, bytes that do not hash, a write that failed) stands.
      if (!isLilyError(e, "UNREACHABLE")) throw e;
    }
    manifest ??= checkedResult(await this.getRecord(resultCid), dir);
    const left = Object.entries(manifest.files).filter(([name]) => !written.has(name));
    await inParallel(left.length, async (i) => {
      const [name, cid] = left[i]!;
      writeFileSync(join(dir, name), await this.getBytes(cid));
    });
    return manifest;
  }

  /** The CAR half of downloadResult: writes every file the CAR holds, adding its name to `written`; undefined when the store answered no CAR. */
  private async downloadResultCar(resultCid: string, dir: string, written: Set<string>): Promise<ResultManifest | undefined> {
    let res: Response;
    try {
      res = await nodeFetch(`${this.url}/ipfs/${resultCid}?format=car&dag-scope=all`, {
        headers: { accept: MEDIA_TYPE_CAR },
        signal: AbortSignal.timeout(RESULT_CAR_TIMEOUT_MS),
      });
    } catch (e) {
      throw new LilyError({ code: "UNREACHABLE", message: `store at ${this.url} did not answer`, cause: e });
    }
    // No CAR (an older store, or something in between that answered with another type): the per-block way.
    if (!res.ok || !res.headers.get("content-type")?.startsWith(MEDIA_TYPE_CAR)) {
      await res.body?.cancel();
      return undefined;
    }
    let manifest: ResultManifest | undefined;
    const names = new Map<string, string[]>();
    try {
      for await (const block of verifiedBlocks(resultCid, chunksOf(res))) {
        if (!manifest) {
          manifest = checkedResult(decodeRecord(block.bytes), dir);
          for (const [name, cid] of Object.entries(manifest.files)) names.set(cid, [...(names.get(cid) ?? []), name]);
          continue;
        }
        for (const name of names.get(block.cid) ?? []) {
          writeFileSync(join(dir, name), block.bytes);
          written.add(name);
        }
      }
    } finally {
      await res.body?.cancel();
    }
    return manifest;
  }
}

/** The regular files of `dir` (flat), in name order, with their sizes (one stat each). */
function filesIn(dir: string): { name: string; size: number }[] {
  return readdirSync(dir)
    .sort()
    .map((name) => ({ name, stat: statSync(join(dir, name)) }))
    .filter((f) => f.stat.isFile())
    .map((f) => ({ name: f.name, size: f.stat.size }));
}

/** A result manifest whose every file name is safe to write in `dir` (checked before any is written); `dir` is made. */
function checkedResult(record: unknown, dir: string): ResultManifest {
  const manifest = parse(ResultManifest, record, "result");
  // REJECT: a name that would write outside `dir` (checked for every file before any is written)
  for (const name of Object.keys(manifest.files))
    if (name.includes("/") || name.startsWith("."))
      throw new LilyError({ code: "INVALID_INPUT", field: `result.files.${name}`, message: `unsafe file name in result: ${name}` });
  mkdirSync(dir, { recursive: true });
  return manifest;
}

/** A response body as the chunks it arrives in. */
async function* chunksOf(res: Response): AsyncGenerator<Uint8Array> {
  const reader = res.body!.getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) yield r.value;
}
