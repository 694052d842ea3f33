// What a signed job needs, kept on this machine: the module manifest, its binary, the inputs
// record and every file input, as fetched (and verified) before signing. A job creator that
// withdraws its inputs after the provider signed cannot make the job unrunnable, and when the deal
// is disputed the provider puts them back into the store so a mediator can re-run it.
// One directory per deal, one file per block, named by its CID; each block is re-verified when read.
// A proposal's check may take blocks fetched lately for other deals from memory (recentBlocks.ts)
// instead of the store: what it fetched is kept for the deal when it signs, so the deal can still
// put them back for a mediator. A run reads only the deal's own copy and the store: a job whose
// inputs are gone from both must end in the committed failure a mediator would also reach.
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DAG_JSON_CODEC, decodeRecord, parseCid, verifyCid } from "@lily/protocol";
import { removeAside, type JobSource } from "@lily/executor";
import type { StoreClient } from "@lily/store";
import type { Hex } from "viem";
import { RecentBlocks } from "./recentBlocks.ts";

/** A job source that remembers every block it handed out. */
export interface RecordingSource extends JobSource {
  readonly fetched: ReadonlyMap<string, Uint8Array>;
}

export class JobCache {
  private readonly dir: string;
  private readonly recent: RecentBlocks;

  constructor(dir: string, recent: RecentBlocks = new RecentBlocks()) {
    this.dir = dir;
    this.recent = recent;
  }

  /**
   * A source for one deal's job: its cached blocks first, then (`recent`: for checking a proposal)
   * the blocks fetched lately, then `fallback` (the store, which verifies them).
   */
  source(dealId: Hex, fallback: JobSource, opts: { recent?: boolean } = {}): RecordingSource {
    const fetched = new Map<string, Uint8Array>();
    const getBytes = async (cid: string): Promise<Uint8Array> => {
      let bytes = this.read(dealId, cid) ?? (opts.recent ? this.recent.get(cid) : undefined);
      if (!bytes) {
        bytes = await fallback.getBytes(cid);
        this.recent.put(cid, bytes);
      }
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
