// Compiled sandbox modules, kept for reuse. Preparing a module for a job (capping its memory in
// the binary, instrumenting memory.grow, compiling it) depends only on its bytes and the job's
// memory cap, and a WebAssembly.Module is immutable: every job still instantiates it afresh in
// a worker of its own, so nothing of one run reaches the next. Keyed by the SHA-256 of the bytes
// and the cap, at most `limit` modules (least recently used first out).
import { createHash } from "node:crypto";
import { capMemory } from "./capMemory.ts";
import { MEMORY_DENIED_EXPORT, watchMemoryGrow } from "./watchMemoryGrow.ts";

export interface PreparedModule {
  module: WebAssembly.Module;
  /** The exported global that records a refused memory.grow, if the module was instrumented. */
  memoryFlag: string | null;
}

export class CompiledModules {
  private readonly limit: number;
  private readonly entries = new Map<string, Promise<PreparedModule>>();
  /** Modules prepared (compiled) and reused so far. */
  readonly counts = { compiled: 0, reused: 0 };

  constructor(limit = 32) {
    this.limit = limit;
  }

  /** The module for these bytes under this cap: compiled once, then reused. A failure is not kept. */
  get(wasm: Uint8Array, memoryMb: number): Promise<PreparedModule> {
    const key = `${createHash("sha256").update(wasm).digest("hex")}:${memoryMb}`;
    const hit = this.entries.get(key);
    if (hit) {
      this.counts.reused++;
      // Most recently used last.
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    this.counts.compiled++;
    const prepared = prepare(wasm, memoryMb);
    this.entries.set(key, prepared);
    prepared.catch(() => this.entries.delete(key));
    while (this.entries.size > this.limit) this.entries.delete(this.entries.keys().next().value!);
    return prepared;
  }
}

async function prepare(wasm: Uint8Array, memoryMb: number): Promise<PreparedModule> {
  const capped = capMemory(wasm, memoryMb);
  const watched = watchMemoryGrow(capped);
  const module = await WebAssembly.compile((watched ?? capped) as Uint8Array<ArrayBuffer>);
  return { module, memoryFlag: watched ? MEMORY_DENIED_EXPORT : null };
}
