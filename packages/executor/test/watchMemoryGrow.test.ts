import { test } from "node:test";
import assert from "node:assert/strict";
import { isLilyError } from "@lily/protocol";
import { loadCatalog } from "@lily/modules";
import { capMemory } from "../src/capMemory.ts";
import { MEMORY_DENIED_EXPORT, watchMemoryGrow } from "../src/watchMemoryGrow.ts";
import { growModule, limits, name } from "./fixtures/wasm.ts";

function instantiate(wasm: Uint8Array | null) {
  assert.ok(wasm, "the module was instrumented");
  const { exports } = new WebAssembly.Instance(new WebAssembly.Module(wasm as Uint8Array<ArrayBuffer>));
  return { grow: exports.grow as (pages: number) => number, denied: () => (exports[MEMORY_DENIED_EXPORT] as WebAssembly.Global).value };
}

test("a memory.grow refused at the cap raises the flag; grows within the cap do not", () => {
  const m = instantiate(watchMemoryGrow(capMemory(growModule(limits(1)), 1))); // 16 pages
  assert.equal(m.grow(15), 1, "memory.grow still answers with the previous size");
  assert.equal(m.denied(), 0);
  assert.equal(m.grow(1), -1);
  assert.equal(m.denied(), 1);
});

test("an imported memory is watched too", () => {
  const wasm = watchMemoryGrow(capMemory(growModule(limits(1), { imported: true }), 1));
  assert.ok(wasm);
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 16 });
  const { exports } = new WebAssembly.Instance(new WebAssembly.Module(wasm as Uint8Array<ArrayBuffer>), { env: { memory } });
  assert.equal((exports.grow as (n: number) => number)(16), -1);
  assert.equal((exports[MEMORY_DENIED_EXPORT] as WebAssembly.Global).value, 1);
});

test("a module that exports the flag's name itself is refused, so it cannot fake a memory limit", () => {
  const spoof = growModule(limits(1), { exports: [[...name(MEMORY_DENIED_EXPORT), 0x00, 0]] });
  assert.throws(
    () => watchMemoryGrow(spoof),
    (e) => isLilyError(e, "INVALID_INPUT") && e.field === "module",
  );
});

test("a module whose types it cannot renumber safely (GC rec groups) is left as it is", () => {
  assert.equal(watchMemoryGrow(growModule(limits(1), { recGroup: true })), null);
});

for (const m of loadCatalog()) {
  test(`${m.ref}: instrumenting keeps every export and adds the flag`, () => {
    const watched = watchMemoryGrow(capMemory(m.wasmBytes, m.manifest.resources.memoryMb));
    assert.ok(watched);
    const exportsOf = (w: Uint8Array) => WebAssembly.Module.exports(new WebAssembly.Module(w as Uint8Array<ArrayBuffer>)).map((e) => e.name);
    assert.deepEqual(exportsOf(watched), [...exportsOf(m.wasmBytes), MEMORY_DENIED_EXPORT]);
  });
}
