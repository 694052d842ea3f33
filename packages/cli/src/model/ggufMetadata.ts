// Read the key-value header of a GGUF file (https://github.com/ggml-org/ggml/blob/master/docs/gguf.md)
// without loading the model: `lily model add` takes the architecture, name and context length from
// it. Only the header is read, so a multi-gigabyte file costs a few kilobytes.
import { open } from "node:fs/promises";
import { LilyError } from "@lily/protocol";

const MAGIC = 0x46554747; // "GGUF", little-endian
/** The most header bytes read: metadata with a full vocabulary fits well inside. */
const MAX_HEADER_BYTES = 64 * 1024 * 1024;

export type GgufValue = string | number | bigint | boolean | GgufValue[];

export interface GgufMetadata {
  version: number;
  tensorCount: bigint;
  kv: Map<string, GgufValue>;
}

export async function readGgufMetadata(path: string): Promise<GgufMetadata> {
  const fh = await open(path, "r");
  try {
    const { size } = await fh.stat();
    const buf = Buffer.alloc(Math.min(size, MAX_HEADER_BYTES));
    await fh.read(buf, 0, buf.length, 0);
    return parseHeader(buf, path);
  } finally {
    await fh.close();
  }
}

/** Reads little-endian values from the header, refusing to run past its end. */
class Cursor {
  at = 0;
  private readonly buf: Buffer;
  private readonly path: string;
  constructor(buf: Buffer, path: string) {
    this.buf = buf;
    this.path = path;
  }
  private take(n: number): number {
    if (this.at + n > this.buf.length) throw notGguf(this.path, "its header is cut short");
    const from = this.at;
    this.at += n;
    return from;
  }
  u8 = () => this.buf.readUInt8(this.take(1));
  i8 = () => this.buf.readInt8(this.take(1));
  u16 = () => this.buf.readUInt16LE(this.take(2));
  i16 = () => this.buf.readInt16LE(this.take(2));
  u32 = () => this.buf.readUInt32LE(this.take(4));
  i32 = () => this.buf.readInt32LE(this.take(4));
  f32 = () => this.buf.readFloatLE(this.take(4));
  u64 = () => this.buf.readBigUInt64LE(this.take(8));
  i64 = () => this.buf.readBigInt64LE(this.take(8));
  f64 = () => this.buf.readDoubleLE(this.take(8));
  str = () => {
    const n = Number(this.u64());
    const from = this.take(n);
    return this.buf.toString("utf8", from, from + n);
  };
}

function parseHeader(buf: Buffer, path: string): GgufMetadata {
  const c = new Cursor(buf, path);
  const scalar: Record<number, () => GgufValue> = {
    0: c.u8,
    1: c.i8,
    2: c.u16,
    3: c.i16,
    4: c.u32,
    5: c.i32,
    6: c.f32,
    7: () => c.u8() !== 0,
    8: c.str,
    10: c.u64,
    11: c.i64,
    12: c.f64,
  };
  const value = (type: number): GgufValue => {
    if (type === 9) {
      const inner = c.u32();
      const n = Number(c.u64());
      const out: GgufValue[] = [];
      for (let i = 0; i < n; i++) out.push(value(inner));
      return out;
    }
    const read = scalar[type];
    if (!read) throw notGguf(path, `it has an unknown value type ${type}`);
    return read();
  };
  if (c.u32() !== MAGIC) throw notGguf(path, "it does not start with GGUF");
  const version = c.u32();
  if (version < 2) throw notGguf(path, `it is GGUF version ${version}; 2 or later is needed`);
  const tensorCount = c.u64();
  const kvCount = Number(c.u64());
  const kv = new Map<string, GgufValue>();
  for (let i = 0; i < kvCount; i++) {
    const key = c.str();
    kv.set(key, value(c.u32()));
  }
  return { version, tensorCount, kv };
}

/** The context length the model was trained for (`<arch>.context_length`). */
export function ggufContextLength(meta: GgufMetadata): number | undefined {
  const arch = meta.kv.get("general.architecture");
  const n = typeof arch === "string" ? meta.kv.get(`${arch}.context_length`) : undefined;
  return typeof n === "number" ? n : typeof n === "bigint" ? Number(n) : undefined;
}

function notGguf(path: string, why: string): LilyError {
  return new LilyError({ code: "INVALID_INPUT", field: "model", message: `${path} is not a GGUF model file: ${why}` });
}
