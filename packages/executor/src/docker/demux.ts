// The Docker engine's multiplexed stream (attach and logs of a container without a TTY): frames of
// an 8-byte header [stream, 0, 0, 0, size as uint32 big-endian] and `size` bytes of payload, where
// stream 1 is stdout and 2 is stderr. Frames arrive split and joined at any byte, so the parser
// keeps what it has not finished. What a module prints is kept up to a cap per stream: a module
// that prints forever costs the provider the reading, never its memory.

export type StreamKind = "stdout" | "stderr";

const HEADER = 8;
const KINDS: Record<number, StreamKind | undefined> = { 1: "stdout", 2: "stderr" };

/** Bytes kept up to `cap`; the rest is counted and dropped. */
export class CappedBuffer {
  readonly cap: number;
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  /** Every byte offered, kept or not. */
  total = 0;

  constructor(cap: number) {
    this.cap = cap;
  }

  push(chunk: Buffer): void {
    this.total += chunk.length;
    const room = this.cap - this.kept;
    if (room <= 0) return;
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    // A copy: the parser's chunks may be views into a buffer it reuses.
    this.chunks.push(Buffer.from(part));
    this.kept += part.length;
  }

  get truncated(): boolean {
    return this.total > this.kept;
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks, this.kept);
  }
}

/**
 * A parser for one multiplexed stream: feed it the chunks as they come; it hands each payload
 * piece to `onData` with its stream. Stream 0 (stdin) and unknown streams are dropped with their
 * payload. `end()` says whether the stream stopped in the middle of a frame.
 */
export function createDemuxer(onData: (kind: StreamKind, chunk: Buffer) => void): { write(chunk: Buffer): void; end(): { partial: boolean } } {
  let header = Buffer.alloc(0);
  let kind: StreamKind | undefined;
  let left = 0; // payload bytes still due for the current frame

  return {
    write(chunk: Buffer): void {
      let at = 0;
      while (at < chunk.length) {
        if (left === 0) {
          const need = HEADER - header.length;
          header = Buffer.concat([header, chunk.subarray(at, at + need)]);
          at += Math.min(need, chunk.length - at);
          if (header.length < HEADER) return;
          kind = KINDS[header[0]!];
          left = header.readUInt32BE(4);
          header = Buffer.alloc(0);
          continue;
        }
        const take = Math.min(left, chunk.length - at);
        if (kind) onData(kind, chunk.subarray(at, at + take));
        at += take;
        left -= take;
      }
    },
    end(): { partial: boolean } {
      return { partial: left > 0 || header.length > 0 };
    },
  };
}
