// Cap a module's memory by rewriting its limits, so the engine itself enforces the job's memory
// cap: the memory (defined in the module or imported) gets maximum = memoryMb in 64 KiB pages, and
// any memory.grow past it fails, whatever allocator the module uses.
import { LilyError } from "@lily/protocol";
import { IMPORT_KIND, SECTION, WasmReader, concat, joinSections, malformed, readImports, splitSections, uleb, validates, type Section } from "./wasmBinary.ts";

export const PAGE_BYTES = 64 * 1024;
const PAGES_PER_MB = (1024 * 1024) / PAGE_BYTES;
const MAX_PAGES = 65536; // a 32-bit memory addresses at most 4 GiB
const HAS_MAX = 0x01;
const MEMORY64 = 0x04;

export interface MemoryLimits {
  /** Pages at start. */
  min: number;
  /** Pages it may grow to; absent means unbounded. */
  max?: number;
  shared: boolean;
}

/** The cap in pages for a cap in MiB. */
export function capPages(memoryMb: number): number {
  return Math.min(memoryMb * PAGES_PER_MB, MAX_PAGES);
}

interface Found {
  section: number;
  /** Byte range of the limits inside the section's content. */
  start: number;
  end: number;
  limits: MemoryLimits;
}

function readLimits(r: WasmReader): MemoryLimits {
  const flags = r.u8();
  if (flags & MEMORY64) throw new LilyError({ code: "INVALID_INPUT", field: "module", message: "module: 64-bit memories are not supported" });
  if (flags > 0x03) throw malformed(`unknown memory limits flags 0x${flags.toString(16)}`);
  const min = r.u32();
  return { min, max: flags & HAS_MAX ? r.u32() : undefined, shared: (flags & 0x02) !== 0 };
}

/** Where the module's memories are declared: imported ones first, as the index space orders them. */
function findMemories(sections: Section[]): Found[] {
  const found: Found[] = [];
  sections.forEach((s, section) => {
    if (s.id === SECTION.import) {
      for (const entry of readImports(s.content)) {
        if (entry.kind !== IMPORT_KIND.memory) continue;
        const limits = readLimits(new WasmReader(s.content, entry.descStart));
        found.push({ section, start: entry.descStart, end: entry.descEnd, limits });
      }
    } else if (s.id === SECTION.memory) {
      const r = new WasmReader(s.content);
      for (let count = r.u32(); count > 0; count--) {
        const start = r.pos;
        const limits = readLimits(r);
        found.push({ section, start, end: r.pos, limits });
      }
    }
  });
  return found;
}

/** The limits of the module's memories, in pages. */
export function memoryLimits(wasm: Uint8Array): MemoryLimits[] {
  return findMemories(splitSections(wasm)).map((f) => f.limits);
}

/**
 * Return the module with its memory's maximum lowered to `memoryMb` (a smaller maximum the module
 * declares itself is kept). Throws SANDBOX_LIMIT if the module needs more than that just to start.
 */
export function capMemory(wasm: Uint8Array, memoryMb: number): Uint8Array {
  if (!validates(wasm)) throw malformed("it does not validate");
  const pages = capPages(memoryMb);
  const sections = splitSections(wasm);
  const memories = findMemories(sections);
  if (memories.length === 0) return wasm; // nothing to cap: the module has no memory
  // REJECT: one cap cannot bound the sum of several memories
  if (memories.length > 1)
    throw new LilyError({ code: "INVALID_INPUT", field: "module", message: `module: declares ${memories.length} memories; one is supported` });
  const [{ section, start, end, limits }] = memories as [Found];
  // REJECT: a module whose initial memory is already over the cap cannot run within it
  if (limits.min > pages) {
    throw new LilyError({
      code: "SANDBOX_LIMIT",
      field: "resources.memoryMb",
      message: `resources.memoryMb: the module starts with ${Math.ceil(limits.min / PAGES_PER_MB)} MiB of memory (${limits.min} pages), over the cap of ${memoryMb} MiB`,
      details: { minimumPages: limits.min, capPages: pages, memoryMb },
    });
  }
  const max = Math.min(limits.max ?? pages, pages);
  const encoded = [HAS_MAX | (limits.shared ? 0x02 : 0), ...uleb(limits.min), ...uleb(max)];
  const content = sections[section]!.content;
  const patched = concat([content.subarray(0, start), encoded, content.subarray(end)]);
  const out = joinSections(sections.map((s, i) => (i === section ? { id: s.id, content: patched } : s)));
  if (!validates(out)) throw new LilyError({ code: "INTERNAL", field: "module", message: "module: capping its memory produced an invalid binary" });
  return out;
}
