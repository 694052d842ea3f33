// The gate every job passes before it runs: jobs run side by side while they fit the capacity
// and the job limit, never beyond; one that alone needs more than the whole capacity (signed
// before a restart with less) runs only when nothing else does; a job that ends lets the next in.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Hex } from "viem";
import { RunGate } from "../src/runGate.ts";
import type { Resources } from "../src/resources.ts";

const id = (n: number) => `0x${n.toString(16).padStart(64, "0")}` as Hex;
const needs = (cpu: number, memoryMb = 100, gpu = 0): Resources => ({ cpu, memoryMb, gpu, vramMb: 0 });
const capacity = { cpu: 2, memoryMb: 1000, gpu: 1, vramMb: 0 };

test("jobs run side by side up to the capacity, and the next waits saying which resource is short", () => {
  const gate = new RunGate({ capacity });
  const a = gate.tryAcquire(id(1), needs(1));
  const b = gate.tryAcquire(id(2), needs(1));
  assert.ok("release" in a && "release" in b);
  const c = gate.tryAcquire(id(3), needs(1));
  assert.deepEqual(c, { wait: "cpu: the job needs 1, 0 of 2 free while 2 run" });
  assert.equal(gate.count(), 2);
  assert.deepEqual(gate.inUse(), needs(2, 200));
});

test("memory and GPUs are counted like CPUs", () => {
  const gate = new RunGate({ capacity });
  assert.ok("release" in gate.tryAcquire(id(1), needs(1, 900)));
  const short = gate.tryAcquire(id(2), needs(1, 200));
  assert.ok("wait" in short && short.wait.startsWith("memoryMb:"), JSON.stringify(short));
  assert.ok("release" in gate.tryAcquire(id(3), needs(0, 100, 1)));
  assert.ok("wait" in gate.tryAcquire(id(4), needs(0, 0, 1)));
});

test("maxJobs bounds the number of jobs whatever capacity is left", () => {
  const gate = new RunGate({ capacity: { ...capacity, cpu: 16 }, maxJobs: 2 });
  gate.tryAcquire(id(1), needs(1));
  gate.tryAcquire(id(2), needs(1));
  assert.deepEqual(gate.tryAcquire(id(3), needs(1)), { wait: "2 of at most 2 jobs running" });
});

test("a job that ends frees its share, tells the provider, and only once however often it is released", () => {
  let freed = 0;
  const gate = new RunGate({ capacity }, () => freed++);
  const a = gate.tryAcquire(id(1), needs(2));
  assert.ok("release" in a);
  assert.ok("wait" in gate.tryAcquire(id(2), needs(1)));
  a.release();
  a.release();
  assert.equal(freed, 1);
  assert.equal(gate.count(), 0);
  assert.ok("release" in gate.tryAcquire(id(2), needs(1)));
});

test("a job that ends while none was turned away tells nobody: there is nothing to look at again", () => {
  let freed = 0;
  const gate = new RunGate({ capacity }, () => freed++);
  const a = gate.tryAcquire(id(1), needs(1));
  const b = gate.tryAcquire(id(2), needs(1));
  assert.ok("release" in a && "release" in b);
  a.release();
  assert.equal(freed, 0);
  assert.ok("wait" in gate.tryAcquire(id(3), needs(4)));
  b.release();
  assert.equal(freed, 1, "the job turned away is told once");
  assert.ok("release" in gate.tryAcquire(id(3), needs(4)));
});

test("a job larger than the whole capacity runs only alone", () => {
  const gate = new RunGate({ capacity });
  const small = gate.tryAcquire(id(1), needs(1));
  assert.ok("release" in small);
  assert.ok("wait" in gate.tryAcquire(id(2), needs(3)), "not beside another job");
  small.release();
  const big = gate.tryAcquire(id(2), needs(3));
  assert.ok("release" in big, "alone, it runs");
  assert.ok("wait" in gate.tryAcquire(id(3), needs(1)), "and nothing runs beside it");
});
