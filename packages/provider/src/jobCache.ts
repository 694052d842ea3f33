// What a signed job needs, kept on this machine: the module manifest, its binary, the inputs
// record and every file input, as fetched (and verified) before signing. A job creator that
// withdraws its inputs after the provider signed cannot make the job unrunnable, and when the deal
// is disputed the provider puts them back into the store so a mediator can re-run it.
// One directory per deal, one file per block, named by its CID; each block is re-verified when read.
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DAG_JSON_CODEC, decodeRecord, parseCid, verifyCid } from "@lily/protocol";
import { removeAside, type JobSource } from "@lily/executor";
import type { StoreClient } from "@lily/store";
import type { Hex } from "viem";

/** A job source that remembers every block it handed out. */
export interface RecordingSource extends JobSource {
  readonly fetched: ReadonlyMap<string, Uint8Array>;
}

export class JobCache {
  private readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** A source for one deal's job: its cached blocks first, then `fallback` (the store). */
  source(dealId: Hex, fallback: JobSource): RecordingSource {
    const fetched = new Map<string, Uint8Array>();
    const getBytes = async (cid: string): Promise<Uint8Array> => {
      const bytes = this.read(dealId, cid) ?? (await fallback.getBytes(cid));
      fetched.set(cid, bytes);
      return bytes;
    };
    return {
      fetched,
      getBytes,
      getRecord: async <T>(cid: string) => decodeRecord<T>(await getBytes(cid)),
      // A container image's archive goes straight to the engine, which keeps the loaded image:
      // it is not a block of the job to keep per deal.
      ...(fallback.getFile && { getFile: fallback.getFile.bind(fallback) }),
    };
  }

  /** Keep these blocks for the deal (written whole, then renamed, so a crash leaves no torn block). */
  keep(dealId: Hex, blocks: ReadonlyMap<string, Uint8Array>): void {
    const dir = this.dealDir(dealId);
    mkdirSync(dir, { recursive: true });
    for (const [cid, bytes] of blocks) {
      parseCid(cid); // a CID is a safe file name: base32, no separators
      const tmp = join(dir, `.${cid}.tmp`);
      writeFileSync(tmp, bytes);
      renameSync(tmp, join(dir, cid));
    }
  }

  /** Put every block kept for the deal back into the store; returns how many. */
  async restore(dealId: Hex, store: StoreClient): Promise<number> {
    const dir = this.dealDir(dealId);
    if (!existsSync(dir)) return 0;
    let n = 0;
    for (const cid of readdirSync(dir).filter((f) => !f.startsWith("."))) {
      const bytes = this.read(dealId, cid);
      if (!bytes) continue;
      if (parseCid(cid).code === DAG_JSON_CODEC) await store.putRecordBytes(bytes);
      else await store.putBytes(bytes);
      n++;
    }
    return n;
  }

  /**
   * Forget the deal's blocks: it has ended. Deleting them blocked the provider ~9 ms per job
   * between its commit and its report to the solver; the directory is renamed aside (instant) and
   * deleted in the background.
   */
  drop(dealId: Hex): Promise<void> {
    return removeAside(this.dealDir(dealId));
  }

  private read(dealId: Hex, cid: string): Uint8Array | undefined {
    const path = join(this.dealDir(dealId), cid);
    if (!existsSync(path)) return undefined;
    const bytes = new Uint8Array(readFileSync(path));
    // REJECT: a cached block that no longer hashes to its CID (disk corruption) is not used
    return verifyCid(cid, bytes) ? bytes : undefined;
  }

  private dealDir(dealId: Hex): string {
    return join(this.dir, dealId.toLowerCase());
  }
}
