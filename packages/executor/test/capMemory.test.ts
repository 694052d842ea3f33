import { test } from "node:test";
import assert from "node:assert/strict";
import { isLilyError } from "@lily/protocol";
import { loadCatalog } from "@lily/modules";
import { capMemory, memoryLimits } from "../src/capMemory.ts";
import { splitSections } from "../src/wasmBinary.ts";
import { growModule, limits, section, vec, wasmModule } from "./fixtures/wasm.ts";

function growFunction(wasm: Uint8Array): (pages: number) => number {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(wasm as Uint8Array<ArrayBuffer>));
  return instance.exports.grow as (pages: number) => number;
}

test("a defined memory gets the cap, in 64 KiB pages, as its maximum", () => {
  assert.deepEqual(memoryLimits(capMemory(growModule(limits(1)), 2)), [{ min: 1, max: 32, shared: false }]);
});

test("the engine refuses to grow a capped memory past the cap", () => {
  const grow = growFunction(capMemory(growModule(limits(1)), 2));
  assert.equal(grow(31), 1, "growing to exactly the cap (32 pages) succeeds");
  assert.equal(grow(1), -1, "one page more is refused");
});

test("a smaller maximum declared by the module is kept", () => {
  assert.deepEqual(memoryLimits(capMemory(growModule(limits(1, 4)), 2)), [{ min: 1, max: 4, shared: false }]);
});

test("an imported memory is capped in the import section", () => {
  const capped = capMemory(growModule(limits(1), { imported: true }), 2);
  assert.deepEqual(memoryLimits(capped), [{ min: 1, max: 32, shared: false }]);
  assert.ok(WebAssembly.validate(capped as Uint8Array<ArrayBuffer>));
});

test("limits that need longer LEB128 encodings are re-encoded and the section sizes fixed up", () => {
  const original = growModule(limits(200)); // 200 takes two bytes; the 4 GiB cap, 65536 pages, takes three
  const capped = capMemory(original, 4096);
  assert.deepEqual(memoryLimits(capped), [{ min: 200, max: 65536, shared: false }]);
  assert.equal(capped.length, original.length + 3, "three bytes of maximum were added");
  assert.equal(growFunction(capped)(1), 200);
});

test("a module that starts above the cap is refused, naming resources.memoryMb", () => {
  assert.throws(
    () => capMemory(growModule(limits(100)), 1),
    (e) => isLilyError(e, "SANDBOX_LIMIT") && e.field === "resources.memoryMb" && e.details.minimumPages === 100 && e.details.capPages === 16,
  );
});

test("a module without memory is returned unchanged", () => {
  const noMemory = wasmModule(section(1, vec([[0x60, 0, 0]])));
  assert.equal(capMemory(noMemory, 1), noMemory);
});

test("a module with two memories or a 64-bit memory is refused, as is a non-module", () => {
  for (const wasm of [wasmModule(section(5, vec([limits(1), limits(1)]))), wasmModule(section(5, vec([[0x04, 1]]))), Uint8Array.from([1, 2, 3])]) {
    assert.throws(
      () => capMemory(wasm, 16),
      (e) => isLilyError(e, "INVALID_INPUT") && e.field === "module",
    );
  }
});

for (const m of loadCatalog()) {
  test(`${m.ref}: capping changes its memory's maximum and nothing else`, () => {
    const before = memoryLimits(m.wasmBytes);
    const capped = capMemory(m.wasmBytes, m.manifest.resources.memoryMb);
    assert.deepEqual(memoryLimits(capped), [{ ...before[0], max: m.manifest.resources.memoryMb * 16 }]);
    const others = (w: Uint8Array) => splitSections(w).filter((s) => s.id !== 5);
    assert.deepEqual(others(capped), others(m.wasmBytes));
  });
}
