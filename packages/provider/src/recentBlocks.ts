// The store blocks this provider fetched lately, in memory, by CID. Consecutive jobs mostly run
// the same module: its manifest and binary were fetched from the store (and hashed) again for
// every proposal, two of a job's ~20 requests. A block is content-addressed and was verified
// against its CID when fetched, so serving it again is the same as fetching it; inputs, different
// for every job, pass through and fall out first. Bounded by bytes so it cannot grow a provider.
export interface RecentBlocksOptions {
  /** The most bytes kept in all. */
  maxBytes: number;
  /** Blocks larger than this are not kept (a model's chunks, big inputs). */
  maxBlockBytes: number;
}

export const DEFAULT_RECENT_BLOCKS: RecentBlocksOptions = { maxBytes: 8 * 1024 * 1024, maxBlockBytes: 1024 * 1024 };

export class RecentBlocks {
  private readonly opts: RecentBlocksOptions;
  /** Least recently used first (a Map keeps insertion order; a hit moves the block to the end). */
  private readonly blocks = new Map<string, Uint8Array>();
  private bytes = 0;

  constructor(opts: RecentBlocksOptions = DEFAULT_RECENT_BLOCKS) {
    this.opts = opts;
  }

  /** A copy of the block, if kept: a caller may hand its buffer to a worker, which detaches it. */
  get(cid: string): Uint8Array | undefined {
    const kept = this.blocks.get(cid);
    if (!kept) return undefined;
    this.blocks.delete(cid);
    this.blocks.set(cid, kept);
    return kept.slice();
  }

  /** Keep a block that was verified against `cid`. */
  put(cid: string, bytes: Uint8Array): void {
    if (bytes.byteLength > this.opts.maxBlockBytes || this.blocks.has(cid)) return;
    this.blocks.set(cid, bytes.slice());
    this.bytes += bytes.byteLength;
    for (const [old, b] of this.blocks) {
      if (this.bytes <= this.opts.maxBytes) break;
      this.blocks.delete(old);
      this.bytes -= b.byteLength;
    }
  }

  /** How many bytes it holds now. */
  size(): number {
    return this.bytes;
  }
}
