// Tell "ran out of memory" apart from any other failure. capMemory makes the engine refuse a
// memory.grow past the cap, but a refused grow only returns -1 to the module, which then traps or
// exits in its own way. So every `memory.grow` is routed through a function appended to the
// module: it grows, and when the grow is refused it sets a global exported as
// MEMORY_DENIED_EXPORT, which the executor reads after the run. Appending (rather than importing)
// the function keeps every existing function and global index unchanged.
import { LilyError } from "@lily/protocol";
import {
  IMPORT_KIND,
  SECTION,
  WasmReader,
  concat,
  joinSections,
  putSection,
  readImports,
  readVec,
  skipValType,
  splitSections,
  uleb,
  validates,
  vecContent,
  type Section,
} from "./wasmBinary.ts";

export const MEMORY_DENIED_EXPORT = "lily_memory_denied";

const I32 = 0x7f;
const GROW_TYPE = [0x60, 1, I32, 1, I32]; // (func (param i32) (result i32))
const OP = { call: 0x10, memoryGrow: 0x40 } as const;

/** Something this decoder does not know: an opcode's immediates (try_table, GC, ...), GC types. */
class Unsupported extends Error {}

function skipMemarg(r: WasmReader): void {
  const align = r.u32();
  if (align & 0x40) r.skipLeb(); // memory index (multi-memory)
  r.skipLeb(); // offset
}

function skipBlockType(r: WasmReader): void {
  const t = r.bytes[r.pos];
  if (t === 0x63 || t === 0x64) skipValType(r);
  else r.skipLeb(); // 0x40 (empty), a value type, or a type index (s33)
}

/** Move past the immediates of `op`. https://webassembly.github.io/spec/core/binary/instructions.html */
function skipImmediates(r: WasmReader, op: number): void {
  if (op >= 0x45 && op <= 0xc4) return; // numeric and sign-extension operators
  if (op >= 0x28 && op <= 0x3e) return skipMemarg(r); // loads and stores
  switch (op) {
    case 0x00:
    case 0x01:
    case 0x05:
    case 0x0a:
    case 0x0b:
    case 0x0f:
    case 0x19:
    case 0x1a:
    case 0x1b:
    case 0xd1:
    case 0xd3:
    case 0xd4:
      return;
    case 0x02:
    case 0x03:
    case 0x04:
    case 0x06: // block, loop, if, try
      return skipBlockType(r);
    case 0x07:
    case 0x08:
    case 0x09:
    case 0x0c:
    case 0x0d:
    case 0x10:
    case 0x12:
    case 0x14:
    case 0x15:
    case 0x18:
    case 0x20:
    case 0x21:
    case 0x22:
    case 0x23:
    case 0x24:
    case 0x25:
    case 0x26:
    case 0x3f:
    case 0x40:
    case 0x41:
    case 0x42:
    case 0xd0:
    case 0xd2:
    case 0xd5:
    case 0xd6:
      return r.skipLeb(); // one index, constant, or heap type
    case 0x11:
    case 0x13: // call_indirect, return_call_indirect: type, table
      r.skipLeb();
      return r.skipLeb();
    case 0x0e: // br_table: the labels, then the default
      for (let n = r.u32(); n >= 0; n--) r.skipLeb();
      return;
    case 0x1c: // typed select
      for (let n = r.u32(); n > 0; n--) skipValType(r);
      return;
    case 0x43:
      return r.skip(4);
    case 0x44:
      return r.skip(8);
    case 0xfc:
      return skipPrefixedFC(r, r.u32());
    case 0xfd:
      return skipSimd(r, r.u32());
    case 0xfe:
      return skipAtomic(r, r.u32());
  }
  throw new Unsupported(`0x${op.toString(16)}`);
}

/** Saturating truncation, bulk memory and table operators. */
function skipPrefixedFC(r: WasmReader, sub: number): void {
  if (sub <= 7) return;
  if (sub > 17) throw new Unsupported(`0xfc ${sub}`);
  const indices = sub === 8 || sub === 10 || sub === 12 || sub === 14 ? 2 : 1;
  for (let i = 0; i < indices; i++) r.skipLeb();
}

function skipSimd(r: WasmReader, sub: number): void {
  if (sub <= 11 || sub === 92 || sub === 93) return skipMemarg(r); // loads, store, load_zero
  if (sub === 12 || sub === 13) return r.skip(16); // v128.const, i8x16.shuffle
  if (sub >= 21 && sub <= 34) return r.skip(1); // lane index
  if (sub >= 84 && sub <= 91) {
    skipMemarg(r); // load_lane, store_lane
    r.skip(1);
  }
}

function skipAtomic(r: WasmReader, sub: number): void {
  if (sub === 0x03)
    r.skip(1); // atomic.fence
  else skipMemarg(r);
}

/** A function body with each `memory.grow 0` replaced by `call growFn` (same stack effect). */
function rewriteBody(body: Uint8Array, growFn: number): Uint8Array {
  const r = new WasmReader(body);
  for (let n = r.u32(); n > 0; n--) {
    r.u32(); // a run of locals: how many, of which type
    skipValType(r);
  }
  const parts: Uint8Array[] = [];
  let copied = 0;
  while (!r.done) {
    const at = r.pos;
    const op = r.u8();
    if (op !== OP.memoryGrow) {
      skipImmediates(r, op);
      continue;
    }
    if (r.u32() !== 0) continue; // memory.grow of another memory
    parts.push(body.subarray(copied, at), Uint8Array.from([OP.call, ...uleb(growFn)]));
    copied = r.pos;
  }
  if (copied === 0) return body;
  parts.push(body.subarray(copied));
  return concat(parts);
}

/** (func (param $pages i32) (result i32) (local $r i32) grow; if refused, set the flag global) */
function growBody(flagGlobal: number): Uint8Array {
  const code = [
    1,
    1,
    I32, // one i32 local
    0x20,
    0,
    0x40,
    0,
    0x22,
    1, // local.get 0, memory.grow 0, local.tee 1
    0x41,
    0x7f,
    0x46, // i32.const -1, i32.eq
    0x04,
    0x40, // if
    0x41,
    1,
    0x24,
    ...uleb(flagGlobal), // i32.const 1, global.set $flag
    0x0b,
    0x20,
    1,
    0x0b, // end, local.get 1, end
  ];
  return Uint8Array.from([...uleb(code.length), ...code]);
}

function section(sections: Section[], id: number): Uint8Array | undefined {
  return sections.find((s) => s.id === id)?.content;
}

/** The index of the (i32) -> i32 function type, or `count` if the module has none (it is appended). */
function findType(items: Uint8Array, count: number): number {
  const r = new WasmReader(items);
  for (let i = 0; i < count; i++) {
    const start = r.pos;
    if (r.u8() !== 0x60) throw new Unsupported("GC types"); // rec groups would shift type indices
    for (let n = r.u32(); n > 0; n--) skipValType(r);
    for (let n = r.u32(); n > 0; n--) skipValType(r);
    const t = items.subarray(start, r.pos);
    if (t.length === GROW_TYPE.length && GROW_TYPE.every((b, j) => t[j] === b)) return i;
  }
  return count;
}

function exportNames(items: Uint8Array, count: number): string[] {
  const r = new WasmReader(items);
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    names.push(new TextDecoder().decode(r.bytesVec()));
    r.u8(); // kind
    r.u32(); // index
  }
  return names;
}

/**
 * The module instrumented so that a refused memory.grow is recorded in the exported global
 * MEMORY_DENIED_EXPORT; null if it uses instructions or types this decoder does not know (the
 * memory cap still holds for such a module; a failure is just not attributed to it).
 */
export function watchMemoryGrow(wasm: Uint8Array): Uint8Array | null {
  let sections = splitSections(wasm);
  const code = section(sections, SECTION.code);
  if (!code) return wasm; // no functions, so no memory.grow

  const imports = readImports(section(sections, SECTION.import) ?? Uint8Array.of(0));
  const importedFunctions = imports.filter((i) => i.kind === IMPORT_KIND.function).length;
  const importedGlobals = imports.filter((i) => i.kind === IMPORT_KIND.global).length;
  const types = readVec(section(sections, SECTION.type) ?? Uint8Array.of(0));
  const functions = readVec(section(sections, SECTION.function) ?? Uint8Array.of(0));
  const globals = readVec(section(sections, SECTION.global) ?? Uint8Array.of(0));
  const exports = readVec(section(sections, SECTION.export) ?? Uint8Array.of(0));

  // REJECT: a module must not export the flag itself, or it could fake a memory limit
  if (exportNames(exports.items, exports.count).includes(MEMORY_DENIED_EXPORT)) {
    throw new LilyError({ code: "INVALID_INPUT", field: "module", message: `module: exports the reserved name ${MEMORY_DENIED_EXPORT}` });
  }
  const growFn = importedFunctions + functions.count;
  const flagGlobal = importedGlobals + globals.count;

  let typeIndex: number;
  const bodies = new WasmReader(code);
  const count = bodies.u32();
  const rewritten: Uint8Array[] = [];
  try {
    typeIndex = findType(types.items, types.count);
    for (let i = 0; i < count; i++) {
      const body = rewriteBody(bodies.bytesVec(), growFn);
      rewritten.push(Uint8Array.from(uleb(body.length)), body);
    }
  } catch (e) {
    if (e instanceof Unsupported) return null;
    throw e;
  }
  rewritten.push(growBody(flagGlobal));
  const name = new TextEncoder().encode(MEMORY_DENIED_EXPORT);

  if (typeIndex === types.count) sections = putSection(sections, SECTION.type, vecContent(types.count + 1, concat([types.items, GROW_TYPE])));
  sections = putSection(sections, SECTION.function, vecContent(functions.count + 1, concat([functions.items, uleb(typeIndex)])));
  sections = putSection(sections, SECTION.global, vecContent(globals.count + 1, concat([globals.items, [I32, 1, 0x41, 0, 0x0b]])));
  sections = putSection(
    sections,
    SECTION.export,
    vecContent(exports.count + 1, concat([exports.items, [...uleb(name.length), ...name, IMPORT_KIND.global, ...uleb(flagGlobal)]])),
  );
  sections = putSection(sections, SECTION.code, vecContent(count + 1, concat(rewritten)));

  const out = joinSections(sections);
  if (!validates(out)) throw new LilyError({ code: "INTERNAL", field: "module", message: "module: instrumenting memory.grow produced an invalid binary" });
  return out;
}
