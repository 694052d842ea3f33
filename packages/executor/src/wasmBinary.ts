// Just enough of the WebAssembly binary format to patch a module: LEB128, a byte reader, and
// splitting a module into sections and joining it back with the section sizes recomputed.
// https://webassembly.github.io/spec/core/binary/modules.html
import { LilyError } from "@lily/protocol";

export const SECTION = { custom: 0, type: 1, import: 2, function: 3, memory: 5, global: 6, export: 7, code: 10 } as const;

/** Section ids in the order the spec requires them (custom sections may sit anywhere). */
const ORDER = [1, 2, 3, 4, 5, 13, 6, 7, 8, 9, 12, 10, 11];
const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

export interface Section {
  id: number;
  content: Uint8Array;
}

/** WebAssembly.validate, for bytes of any backing buffer. */
export function validates(bytes: Uint8Array): boolean {
  return WebAssembly.validate(bytes as Uint8Array<ArrayBuffer>);
}

export function malformed(message: string): LilyError {
  return new LilyError({ code: "INVALID_INPUT", field: "module", message: `module: not a valid WebAssembly binary: ${message}` });
}

/** Unsigned LEB128. */
export function uleb(value: number | bigint): number[] {
  let v = BigInt(value);
  const out: number[] = [];
  do {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v === 0n ? byte : byte | 0x80);
  } while (v !== 0n);
  return out;
}

export class WasmReader {
  readonly bytes: Uint8Array;
  pos: number;

  constructor(bytes: Uint8Array, pos = 0) {
    this.bytes = bytes;
    this.pos = pos;
  }

  get done(): boolean {
    return this.pos >= this.bytes.length;
  }

  u8(): number {
    if (this.pos >= this.bytes.length) throw malformed("unexpected end");
    return this.bytes[this.pos++]!;
  }

  /** An unsigned LEB128 of up to 32 bits. */
  u32(): number {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const byte = this.u8();
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
    }
    throw malformed("LEB128 longer than 5 bytes");
  }

  /** Skip any LEB128 (signed or unsigned, any width). */
  skipLeb(): void {
    while (this.u8() & 0x80);
  }

  skip(n: number): void {
    if (this.pos + n > this.bytes.length) throw malformed("unexpected end");
    this.pos += n;
  }

  /** A length-prefixed byte string (names, vectors of bytes). */
  bytesVec(): Uint8Array {
    const n = this.u32();
    const start = this.pos;
    this.skip(n);
    return this.bytes.subarray(start, this.pos);
  }
}

export const IMPORT_KIND = { function: 0, table: 1, memory: 2, global: 3, tag: 4 } as const;

export interface ImportEntry {
  kind: number;
  /** Byte range of the import's type description inside the import section. */
  descStart: number;
  descEnd: number;
}

/** A value or reference type: one byte, or (ref null? heaptype) in the function-references proposal. */
export function skipValType(r: WasmReader): void {
  const t = r.u8();
  if (t === 0x63 || t === 0x64) r.skipLeb();
}

function skipLimits(r: WasmReader): void {
  const flags = r.u8();
  r.skipLeb(); // minimum
  if (flags & 0x01) r.skipLeb(); // maximum
}

/** The entries of an import section, in order. */
export function readImports(content: Uint8Array): ImportEntry[] {
  const r = new WasmReader(content);
  const entries: ImportEntry[] = [];
  for (let count = r.u32(); count > 0; count--) {
    r.bytesVec(); // module name
    r.bytesVec(); // field name
    const kind = r.u8();
    const descStart = r.pos;
    switch (kind) {
      case IMPORT_KIND.function:
        r.u32();
        break; // type index
      case IMPORT_KIND.table:
        skipValType(r);
        skipLimits(r);
        break;
      case IMPORT_KIND.memory:
        skipLimits(r);
        break;
      case IMPORT_KIND.global:
        skipValType(r);
        r.u8();
        break; // type, mutability
      case IMPORT_KIND.tag:
        r.u8();
        r.u32();
        break; // attribute, type index
      default:
        throw malformed(`unknown import kind ${kind}`);
    }
    entries.push({ kind, descStart, descEnd: r.pos });
  }
  return entries;
}

/** A vector's item count and the bytes of its items. */
export function readVec(content: Uint8Array): { count: number; items: Uint8Array } {
  const r = new WasmReader(content);
  const count = r.u32();
  return { count, items: content.subarray(r.pos) };
}

export function splitSections(wasm: Uint8Array): Section[] {
  if (wasm.length < 8 || HEADER.some((b, i) => wasm[i] !== b)) throw malformed("bad magic number or version");
  const r = new WasmReader(wasm, 8);
  const sections: Section[] = [];
  while (!r.done) {
    const id = r.u8();
    sections.push({ id, content: r.bytesVec() });
  }
  return sections;
}

export function joinSections(sections: Section[]): Uint8Array {
  const parts: Uint8Array[] = [Uint8Array.from(HEADER)];
  for (const s of sections) parts.push(Uint8Array.from([s.id, ...uleb(s.content.length)]), s.content);
  return concat(parts);
}

/** Replace the section with this id, or insert it where the spec's order puts it. */
export function putSection(sections: Section[], id: number, content: Uint8Array): Section[] {
  const at = sections.findIndex((s) => s.id === id);
  if (at >= 0) return sections.map((s, i) => (i === at ? { id, content } : s));
  const rank = ORDER.indexOf(id);
  const before = sections.findIndex((s) => s.id !== SECTION.custom && ORDER.indexOf(s.id) > rank);
  const out = [...sections];
  out.splice(before < 0 ? out.length : before, 0, { id, content });
  return out;
}

/** A vector section's content: its item count, then the items' bytes. */
export function vecContent(count: number, items: ArrayLike<number>): Uint8Array {
  return concat([uleb(count), items]);
}

export function concat(parts: ArrayLike<number>[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
